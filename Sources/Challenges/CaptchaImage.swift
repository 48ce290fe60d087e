import Foundation

/// A code drawn as an SVG a person reads and the markup does not give away: every digit's
/// strokes are turned, scaled, shifted and wobbled at random, then cut into short segments,
/// each a `<path>` of its own in the same colour and width range as the many decoy segments
/// and noise lines around them, and all of them shuffled. There are no text nodes, no fonts,
/// no ids, and neither a path's style nor its place in the markup tells digit from noise;
/// reading it means looking at the picture. (It is no defence against a solver that renders
/// and reads images; the rate limits and the proof of work bound what such a solver gets.)
public enum CaptchaImage {
    public static let width = 200
    public static let height = 70
    /// The characters a code is made of.
    public static let alphabet: [Character] = Array("0123456789")

    /// Each digit as strokes on a 4 × 6 grid, (0, 0) top left.
    static let strokes: [Character: [[(Double, Double)]]] = [
        "0": [[(0, 0), (4, 0), (4, 6), (0, 6), (0, 0)], [(4, 0), (0, 6)]],
        "1": [[(1, 1), (2.5, 0), (2.5, 6)], [(1, 6), (4, 6)]],
        "2": [[(0, 1), (1, 0), (3, 0), (4, 1), (4, 2.5), (0, 6), (4, 6)]],
        "3": [[(0, 0), (4, 0), (2, 2.5), (4, 4), (3, 6), (0, 6)]],
        "4": [[(3, 6), (3, 0), (0, 4), (4, 4)]],
        "5": [[(4, 0), (0, 0), (0, 2.5), (3, 2.5), (4, 4), (3, 6), (0, 6)]],
        "6": [[(4, 0), (1, 0), (0, 2), (0, 6), (4, 6), (4, 3), (0, 3)]],
        "7": [[(0, 0), (4, 0), (1.5, 6)], [(1, 3), (3.5, 3)]],
        "8": [[(0, 0), (4, 0), (4, 2.5), (0, 3.5), (0, 6), (4, 6), (4, 3.5), (0, 2.5), (0, 0)]],
        "9": [[(4, 3), (0, 3), (0, 0), (4, 0), (4, 6), (0, 6)]],
    ]

    /// A random code of `length` characters.
    public static func code(length: Int = 5) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The SVG of `code`.
    public static func svg(_ code: String) -> String {
        var generator = BufferedSecureRandom()
        let random = { (range: ClosedRange<Double>) in Double.random(in: range, using: &generator) }
        var segments: [((Double, Double), (Double, Double))] = []
        let step = Double(width - 20) / Double(max(code.count, 1))
        for (index, character) in code.enumerated() {
            let angle = random(-0.35...0.35)
            let scale = random(6.5...8.5)
            let originX = 14 + step * Double(index) + random(-3...3)
            let originY = 10 + random(-4...6)
            for stroke in strokes[character] ?? [] {
                let points = stroke.map { point -> (Double, Double) in
                    let x = (point.0 - 2) * scale
                    let y = (point.1 - 3) * scale
                    return (
                        originX + 2 * scale + x * cos(angle) - y * sin(angle) + random(-1.5...1.5),
                        originY + 3 * scale + x * sin(angle) + y * cos(angle) + random(-1.5...1.5)
                    )
                }
                // Each line of the stroke cut into two to four pieces that meet where they are cut.
                for (from, to) in zip(points, points.dropFirst()) {
                    let cuts = Int(random(2...4.99))
                    var previous = from
                    for cut in 1...cuts {
                        let t = Double(cut) / Double(cuts)
                        let next = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t)
                        segments.append((previous, next))
                        previous = next
                    }
                }
            }
        }
        // Decoys as long as the digits' pieces, and longer noise lines across.
        let (w, h) = (Double(width), Double(height))
        for _ in 0..<22 {
            let start = (random(0...w), random(0...h))
            let length = random(4...14)
            let angle = random(0...(2 * Double.pi))
            segments.append((start, (start.0 + length * cos(angle), start.1 + length * sin(angle))))
        }
        for _ in 0..<3 {
            segments.append(((random(0...w), random(0...h)), (random(0...w), random(0...h))))
        }
        segments.shuffle(using: &generator)
        let paths = segments.map { from, to in
            "<path d=\"M\(fixed(from.0)) \(fixed(from.1)) L\(fixed(to.0)) \(fixed(to.1))\" stroke=\"#1a1a2e\" stroke-width=\"\(fixed(random(1.8...3.4)))\" stroke-linecap=\"round\"/>"
        }
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
            + "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#f4f4f8\"/>" + paths.joined() + "</svg>"
    }

    /// `value` to the nearest tenth, with one decimal (`%.1f` without the cost of a format string).
    static func fixed(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let magnitude = tenths.magnitude
        return "\(tenths < 0 ? "-" : "")\(magnitude / 10).\(magnitude % 10)"
    }
}
