//! HAProxy's hash functions, bit for bit: the `hash-type` functions of hash-based
//! balancing (`balance::hash`) and the hashing converters (`sdbm`, `djb2`, `crc32`,
//! with `avalanche`) use these same ones, so that a key hashes alike everywhere.

/// The `sdbm` hash (HAProxy's default `hash-type` function).
pub fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

/// The `djb2` hash (Dan Bernstein's `h * 33 + c`, starting at 5381).
pub fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

/// HAProxy's own `wt6` hash.
pub fn wt6(key: &[u8]) -> u32 {
    let mut h0: u32 = 0xa53c_965a;
    let mut h1: u32 = 0x5ca6_953a;
    let mut step0: u32 = 6;
    let mut step1: u32 = 18;
    for &c in key {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// The standard (Ethernet, gzip, PNG) CRC-32, HAProxy's `hash_crc32` (reflected
/// polynomial 0xEDB88320, initial and final XOR with all ones), computed by `crc32fast`.
pub fn crc32(key: &[u8]) -> u32 {
    crc32fast::hash(key)
}

/// Bob Jenkins' 32-bit integer mix: the `avalanche` modifier, also used to place
/// consistent-hash ring points (HAProxy's `full_hash`).
pub fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    // HAProxy then spreads the values over the tree by a large prime close to 3/4 of
    // 2^32 (include/haproxy/hash.h).
    a.wrapping_mul(3_221_225_473)
}
