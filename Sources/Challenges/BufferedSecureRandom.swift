import Glibc

/// Random words from the C library's `arc4random_buf` (the kernel's generator), 128 per call:
/// the system generator asks the kernel once per word, and a captcha picture takes hundreds.
struct BufferedSecureRandom: RandomNumberGenerator {
    private var words: [UInt64] = []

    mutating func next() -> UInt64 {
        if words.isEmpty {
            words = [UInt64](repeating: 0, count: 128)
            // The array's own storage, valid for the call; arc4random_buf fills it or aborts.
            words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
        }
        return words.removeLast()
    }
}
