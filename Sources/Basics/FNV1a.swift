/// FNV-1a 64 of `bytes`: a stable, fast hash, the same in every process (Swift's `Hasher` is
/// seeded per process). Not for anything an attacker must not forge.
public func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return hash
}
