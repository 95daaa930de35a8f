//! Prefixed, time-sortable ids (`usr_01J…`): a ULID (48-bit millisecond time + 80 random
//! bits, Crockford base32) behind a prefix that says what the id names.

use rand::RngCore;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn new_id(prefix: &str) -> String {
    let ms = super::now_ms() as u128 & ((1u128 << 48) - 1);
    let mut random = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut random);
    let mut value = ms << 80;
    for (i, b) in random.iter().enumerate() {
        value |= (*b as u128) << (72 - 8 * i);
    }
    let mut out = String::with_capacity(prefix.len() + 27);
    out.push_str(prefix);
    out.push('_');
    for i in (0..26).rev() {
        out.push(ALPHABET[((value >> (5 * i)) & 31) as usize] as char);
    }
    out
}

/// When `id` (from [`new_id`]) was made, in Unix milliseconds; `None` for anything else.
pub fn time_of(id: &str) -> Option<i64> {
    let (_, ulid) = id.rsplit_once('_')?;
    if ulid.len() != 26 {
        return None;
    }
    let mut value: u128 = 0;
    for c in ulid.bytes() {
        let digit = ALPHABET.iter().position(|a| *a == c)? as u128;
        value = value.checked_mul(32)? | digit;
    }
    Some((value >> 80) as i64)
}

/// A random token of `bytes` bytes, hex-encoded (setup tokens).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_unique_and_sortable() {
        let a = new_id("usr");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("usr");
        assert!(a.starts_with("usr_") && a.len() == 30, "{a}");
        assert_ne!(a, b);
        assert!(a < b, "later ids sort after earlier ones: {a} {b}");
    }

    #[test]
    fn an_id_tells_when_it_was_made() {
        let before = super::super::now_ms();
        let id = new_id("evt");
        let at = time_of(&id).unwrap();
        assert!(
            at >= before && at <= super::super::now_ms(),
            "{at} {before}"
        );
        assert_eq!(time_of("evt_short"), None);
        assert_eq!(
            time_of("evt_0000000000000000000000000u"),
            None,
            "not the alphabet"
        );
    }
}
