import Foundation

/// A code drawn as an SVG a person reads and the markup does not give away: every digit is a
/// stroked path of its own shape, turned, scaled, shifted and wobbled at random, under and over
/// random curves and dots. There are no text nodes, no fonts and no ids; the answer appears in
/// neither the markup nor its order (paths are written in no fixed order).
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
        var generator = SystemRandomNumberGenerator()
        let random = { (range: ClosedRange<Double>) in Double.random(in: range, using: &generator) }
        var shapes: [String] = []
        for _ in 0..<6 { shapes.append(noiseCurve(random)) }
        for _ in 0..<40 {
            shapes.append(
                "<circle cx=\"\(fixed(random(0...Double(width))))\" cy=\"\(fixed(random(0...Double(height))))\" r=\"\(fixed(random(0.6...1.8)))\" fill=\"#555\"/>"
            )
        }
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
                let path = points.enumerated().map {
                    "\($0.offset == 0 ? "M" : "L")\(fixed($0.element.0)) \(fixed($0.element.1))"
                }
                shapes.append(
                    "<path d=\"\(path.joined(separator: " "))\" stroke=\"#1a1a2e\" stroke-width=\"\(fixed(random(2.6...3.6)))\" fill=\"none\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>"
                )
            }
        }
        for _ in 0..<3 { shapes.append(noiseCurve(random)) }
        shapes.shuffle(using: &generator)
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
            + "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#f4f4f8\"/>" + shapes.joined() + "</svg>"
    }

    private static func noiseCurve(_ random: (ClosedRange<Double>) -> Double) -> String {
        let w = Double(width)
        let h = Double(height)
        let points = [
            (random(0...w / 4), random(0...h)), (random(0...w), random(0...h)), (random(0...w), random(0...h)),
            (random(3 * w / 4...w), random(0...h)),
        ]
        let d =
            "M\(fixed(points[0].0)) \(fixed(points[0].1)) C\(points.dropFirst().map { "\(fixed($0.0)) \(fixed($0.1))" }.joined(separator: ", "))"
        return "<path d=\"\(d)\" stroke=\"#777\" stroke-width=\"\(fixed(random(1...2.2)))\" fill=\"none\"/>"
    }

    private static func fixed(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
