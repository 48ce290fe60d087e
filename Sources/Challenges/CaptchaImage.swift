import Foundation

/// A code drawn as an SVG that a person reads and a solver finds hard, whether it reads the
/// markup or renders the picture. Each digit takes one of two glyph styles, its own size,
/// slant, angle and bend; neighbours touch or overlap at random spacing; wavy lines and arcs
/// drawn like the digits cross them; one smooth random warp bends the whole picture. All ink
/// is one `<path>` whose subpaths are short pieces cut from every line, digit or clutter
/// alike, each overlapping the next, shifted sideways and with every point moved a little (no
/// two pieces share an end), turned either way and shuffled: the markup says no more than the
/// picture does. Tests/Adversary/captcha_solvers.py measures it against a markup and a
/// rendering solver, each of which knows the glyphs.
public enum CaptchaImage {
    public static let width = 200
    public static let height = 70
    /// The characters a code is made of.
    public static let alphabet: [Character] = Array("0123456789")

    /// A random code of `length` characters.
    public static func code(length: Int = 5) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The SVG of `code`.
    public static func svg(_ code: String) -> String {
        var generator = BufferedSecureRandom()
        let lines = digits(code, using: &generator) + clutter(using: &generator)
        let warp = Warp(using: &generator)
        var pieces: [[SIMD2<Double>]] = []
        for line in lines {
            pieces += cut(warp.apply(to: densified(line, using: &generator)), using: &generator)
        }
        pieces.shuffle(using: &generator)
        var d: [UInt8] = []
        d.reserveCapacity(pieces.count * 48)
        for piece in pieces {
            for (index, point) in piece.enumerated() {
                d.append(index == 0 ? UInt8(ascii: "M") : index == 1 ? UInt8(ascii: "L") : UInt8(ascii: " "))
                append(point.x, to: &d)
                d.append(UInt8(ascii: " "))
                append(point.y, to: &d)
            }
        }
        let strokeWidth = fixed(Double.random(in: 2.1...2.5, using: &generator))
        return
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\">"
            + "<rect width=\"\(width)\" height=\"\(height)\" fill=\"#f4f4f8\"/><path d=\""
            + String(decoding: d, as: UTF8.self)
            + "\" fill=\"none\" stroke=\"#1a1a2e\" stroke-width=\"\(strokeWidth)\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/></svg>"
    }

    /// The strokes of `code`'s digits in the picture's coordinates: each digit in a random
    /// style, size, slant, angle and bend, its points moved a little, advancing by about its
    /// width so that neighbours touch or overlap.
    static func digits(_ code: String, using generator: inout BufferedSecureRandom) -> [[SIMD2<Double>]] {
        var placed: [(strokes: [[SIMD2<Double>]], width: Double, advance: Double)] = []
        for character in code {
            let styles = CaptchaGlyphs.digits[character.wholeNumberValue ?? 0]
            let strokes = styles[Int.random(in: 0..<styles.count, using: &generator)]
            let unitY = random(7.2...8.6, &generator)
            let unit = SIMD2(unitY * random(0.75...0.95, &generator), unitY)
            let (slant, angle) = (random(-0.25...0.25, &generator), random(-0.2...0.2, &generator))
            let (c, s) = (cos(angle), sin(angle))
            let bend = (
                amplitude: random(2...3, &generator),
                frequency: SIMD2(2 * .pi / random(30...45, &generator), 2 * .pi / random(30...45, &generator)),
                phase: SIMD2(random(0...(2 * .pi), &generator), random(0...(2 * .pi), &generator))
            )
            let drawn = strokes.map { stroke in
                stroke.map { point -> SIMD2<Double> in
                    let moved = point + SIMD2(random(-0.25...0.25, &generator), random(-0.25...0.25, &generator))
                    var local = (moved - SIMD2(2, 3)) * unit
                    local.x -= slant * local.y
                    local +=
                        bend.amplitude
                        * SIMD2(
                            sin(local.y * bend.frequency.x + bend.phase.x),
                            sin(local.x * bend.frequency.y + bend.phase.y))
                    return SIMD2(local.x * c - local.y * s, local.x * s + local.y * c)
                }
            }
            let width = 4 * unit.x
            placed.append((drawn, width, width * random(0.95...1.15, &generator)))
        }
        let total = placed.dropLast().reduce(0) { $0 + $1.advance } + (placed.last?.width ?? 0)
        var left = (Double(width) - total) / 2 + random(-6...6, &generator)
        var lines: [[SIMD2<Double>]] = []
        for glyph in placed {
            let centre = SIMD2(left + glyph.width / 2, Double(height) / 2 + random(-4...4, &generator))
            lines += glyph.strokes.map { $0.map { $0 + centre } }
            left += glyph.advance
        }
        return lines
    }

    /// A wavy line across the digits, a shorter one and two arcs the size of a digit's curves,
    /// all drawn like the digits.
    static func clutter(using generator: inout BufferedSecureRandom) -> [[SIMD2<Double>]] {
        var lines: [[SIMD2<Double>]] = []
        for long in [true, false] {
            let (middle, amplitude) = (random(18...52, &generator), random(3...8, &generator))
            let (wavelength, phase) = (random(50...120, &generator), random(0...(2 * .pi), &generator))
            let from = long ? random(-5...40, &generator) : random(-5...120, &generator)
            let to = long ? random(160...205, &generator) : from + random(50...90, &generator)
            lines.append(
                stride(from: from, through: to, by: 8).map { x in
                    SIMD2(x, middle + amplitude * sin(2 * .pi * x / wavelength + phase))
                })
        }
        for _ in 0..<2 {
            let centre = SIMD2(random(20...180, &generator), random(15...55, &generator))
            let radius = SIMD2(random(6...14, &generator), random(8...18, &generator))
            let start = random(0...(2 * .pi), &generator)
            let span = random(1.2...2.8, &generator)
            lines.append(
                (0...8).map { step in
                    let angle = start + span * Double(step) / 8
                    return centre + radius * SIMD2(cos(angle), sin(angle))
                })
        }
        return lines
    }

    /// One smooth random displacement of the whole picture, a few pixels at most.
    struct Warp {
        var amplitude: SIMD2<Double>
        var frequency: SIMD4<Double>
        var phase: SIMD4<Double>

        init(using generator: inout BufferedSecureRandom) {
            amplitude = SIMD2(
                Double.random(in: 2.5...3.5, using: &generator), Double.random(in: 2.5...3.5, using: &generator))
            frequency = SIMD4((0..<4).map { _ in 2 * .pi / Double.random(in: 55...100, using: &generator) })
            phase = SIMD4((0..<4).map { _ in Double.random(in: 0...(2 * .pi), using: &generator) })
        }

        func apply(to line: [SIMD2<Double>]) -> [SIMD2<Double>] {
            line.map { p in
                SIMD2(
                    p.x + amplitude.x * (sin(p.y * frequency[0] + phase[0]) + 0.5 * sin(p.x * frequency[1] + phase[1])),
                    p.y + amplitude.y * (sin(p.x * frequency[2] + phase[2]) + 0.5 * sin(p.y * frequency[3] + phase[3])))
            }
        }
    }

    /// `line` with a point every 2.5 to 4 pixels, so that the warp bends its straight parts.
    static func densified(_ line: [SIMD2<Double>], using generator: inout BufferedSecureRandom)
        -> [SIMD2<Double>]
    {
        guard var previous = line.first else { return [] }
        var points = [previous]
        for next in line.dropFirst() {
            let length = ((next - previous) * (next - previous)).sum().squareRoot()
            let steps = max(1, Int(length / Double.random(in: 2.5...4, using: &generator)))
            points += (1...steps).map { previous + (next - previous) * (Double($0) / Double(steps)) }
            previous = next
        }
        return points
    }

    /// `line` cut into subpaths of three to six points, each overlapping the next by a segment,
    /// its two ends stretched or shortened along the line by up to 1.5 px, shifted sideways by
    /// up to 1 px, every point moved by up to 0.4 px on its own, and each turned either way: no
    /// end lies on another's point, and a stroke's pieces do not line up exactly.
    static func cut(_ line: [SIMD2<Double>], using generator: inout BufferedSecureRandom) -> [[SIMD2<Double>]] {
        var pieces: [[SIMD2<Double>]] = []
        var start = 0
        while start < line.count - 1 {
            let end = min(line.count, start + Int.random(in: 3...6, using: &generator))
            var points = Array(line[start..<end])
            points[0] = stretched(points[0], awayFrom: points[1], using: &generator)
            points[points.count - 1] = stretched(
                points[points.count - 1], awayFrom: points[points.count - 2], using: &generator)
            let along = points[points.count - 1] - points[0]
            let across = SIMD2(-along.y, along.x) / max((along * along).sum().squareRoot(), 1e-9)
            let shift = across * random(-1...1, &generator)
            points = points.map {
                $0 + shift + SIMD2(random(-0.4...0.4, &generator), random(-0.4...0.4, &generator))
            }
            if Bool.random(using: &generator) { points.reverse() }
            pieces.append(points)
            start = end - start > 2 ? end - 2 : end - 1
        }
        return pieces
    }

    /// `end` moved by -1 to 1.5 px along the line from `other`.
    private static func stretched(
        _ end: SIMD2<Double>, awayFrom other: SIMD2<Double>, using generator: inout BufferedSecureRandom
    ) -> SIMD2<Double> {
        let direction = end - other
        let length = (direction * direction).sum().squareRoot()
        guard length > 1.5 else { return end }
        return end + direction * (random(-1...1.5, &generator) / length)
    }

    private static func random(_ range: ClosedRange<Double>, _ generator: inout BufferedSecureRandom) -> Double {
        Double.random(in: range, using: &generator)
    }

    /// `value` to the nearest tenth, with one decimal (`%.1f` without the cost of a format string).
    static func fixed(_ value: Double) -> String {
        var written: [UInt8] = []
        append(value, to: &written)
        return String(decoding: written, as: UTF8.self)
    }

    /// Appends `value` as ``fixed(_:)`` writes it.
    static func append(_ value: Double, to text: inout [UInt8]) {
        let tenths = Int((value * 10).rounded())
        let magnitude = tenths.magnitude
        if tenths < 0 { text.append(UInt8(ascii: "-")) }
        var place: UInt = 1
        while place * 10 <= magnitude / 10 { place *= 10 }
        while place > 0 {
            text.append(UInt8(48 + magnitude / 10 / place % 10))
            place /= 10
        }
        text.append(UInt8(ascii: "."))
        text.append(UInt8(48 + magnitude % 10))
    }
}
