import Foundation

/// The digits the picture captcha draws: each in two styles, angular and rounded, as strokes
/// on a 4 × 6 grid, (0, 0) top left. (Tests/Adversary/captcha_solvers.py holds a copy: its
/// solvers know the glyphs, as anyone who reads this source does.)
enum CaptchaGlyphs {
    typealias Stroke = [SIMD2<Double>]

    /// `digits[d][style]` is digit `d`'s strokes in one style.
    static let digits: [[[Stroke]]] = [
        [
            [
                arc(1.3, 1.3, 1.3, 1.3, 180, 270, steps: 4) + arc(2.7, 1.3, 1.3, 1.3, 270, 360, steps: 4)
                    + arc(2.7, 4.7, 1.3, 1.3, 0, 90, steps: 4) + arc(1.3, 4.7, 1.3, 1.3, 90, 180, steps: 4)
                    + points((0, 1.3))
            ],
            [arc(2, 3, 2, 3, 0, 360, steps: 16)],
        ],
        [[points((1, 1), (2.5, 0), (2.5, 6)), points((1, 6), (4, 6))], [points((0.8, 1.4), (2.4, 0), (2.4, 6))]],
        [
            [points((0, 1), (1, 0), (3, 0), (4, 1), (4, 2.5), (0, 6), (4, 6))],
            [arc(2, 1.8, 2, 1.8, 180, 390) + points((0, 6), (4, 6))],
        ],
        [
            [points((0, 0), (4, 0), (2, 2.5), (4, 4), (3, 6), (0, 6))],
            [arc(2, 1.5, 1.9, 1.5, 200, 450), arc(2, 4.5, 2, 1.5, 270, 520)],
        ],
        [[points((3, 6), (3, 0), (0, 4), (4, 4))], [points((0.5, 0), (0, 3.6), (4, 3.6)), points((3, 1.4), (3, 6))]],
        [
            [points((4, 0), (0, 0), (0, 2.5), (3, 2.5), (4, 4), (3, 6), (0, 6))],
            [points((3.8, 0), (0.4, 0), (0.1, 2.8)) + arc(1.8, 4.2, 2.1, 1.8, 225, 500)],
        ],
        [
            [points((3.4, 0), (0.3, 3.6)) + arc(2, 4.4, 1.9, 1.6, 200, 560, steps: 14)],
            [points((3.6, 0.2), (2.2, 0), (0.9, 0.8), (0.2, 2.3), (0, 4.4)) + arc(2, 4.4, 2, 1.6, 180, 540, steps: 14)],
        ],
        [
            [points((0, 0), (4, 0), (1.5, 6)), points((1, 3), (3.5, 3))],
            [points((0, 0.2), (4, 0), (2.8, 2.5), (1.8, 6))],
        ],
        [
            [arc(2, 1.3, 1.4, 1.3, 90, 450, steps: 12), arc(2, 4.3, 2, 1.7, 270, 630, steps: 14)],
            [arc(2, 1.4, 1.7, 1.4, 0, 360, steps: 14), arc(2, 4.4, 2, 1.6, 0, 360, steps: 14)],
        ],
        [
            [arc(2, 1.6, 2, 1.6, 30, 390, steps: 14) + points((1, 6))],
            [arc(2, 1.7, 2, 1.7, 0, 360, steps: 14) + points((3.8, 4), (2.8, 5.6), (1.4, 6), (0.3, 5.5))],
        ],
    ]

    private static func points(_ list: (Double, Double)...) -> Stroke {
        list.map { SIMD2($0.0, $0.1) }
    }

    /// An elliptic arc from `start` to `end` degrees (0° points right, 90° down), as `steps` lines.
    private static func arc(
        _ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double, _ start: Double, _ end: Double, steps: Int = 10
    ) -> Stroke {
        (0...steps).map { step in
            let angle = (start + (end - start) * Double(step) / Double(steps)) * Double.pi / 180
            return SIMD2(cx + rx * cos(angle), cy + ry * sin(angle))
        }
    }
}
