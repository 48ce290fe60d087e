import Foundation
import Testing

@testable import Challenges

@Suite struct CaptchaImageTests {
    @Test func numbersAreWrittenWithOneDecimalToTheNearestTenth() throws {
        for value in [0.0, 0.04, 0.06, 1.25, 3.14159, 9.95, 99.949, 199.99, 70.0, -0.2, -3.75, -12.06, 1234.56] {
            let written = CaptchaImage.fixed(value)
            #expect(written.wholeMatch(of: /-?\d+\.\d/) != nil, "\(written)")
            #expect(abs(try #require(Double(written)) - value) <= 0.05 + 1e-9, "\(value) as \(written)")
        }
        #expect(CaptchaImage.fixed(3.14159) == "3.1")
        #expect(CaptchaImage.fixed(-12.06) == "-12.1")
        #expect(CaptchaImage.fixed(0.04) == "0.0")
        #expect(CaptchaImage.fixed(105.0) == "105.0")
    }

    @Test func aCodeIsFiveDigits() {
        for _ in 0..<50 {
            let code = CaptchaImage.code()
            #expect(code.count == 5 && code.allSatisfy { CaptchaImage.alphabet.contains($0) }, "\(code)")
        }
        #expect(CaptchaImage.code(length: 7).count == 7)
    }

    @Test func thePictureIsOnePathOfSubpathsAndNeverTheSameTwice() throws {
        let code = CaptchaImage.code()
        let first = CaptchaImage.svg(code)
        #expect(first != CaptchaImage.svg(code))
        #expect(first.hasPrefix("<svg ") && first.hasSuffix("</svg>"))
        #expect(first.contains("width=\"200\" height=\"70\" viewBox=\"0 0 200 70\""))
        let elements = first.matches(of: /<(\w+)/).map { String($0.output.1) }
        #expect(elements == ["svg", "rect", "path"])
        // Nothing between tags: no text node can spell the code; no ids, classes or fonts.
        #expect(first.matches(of: />[^<]/).isEmpty)
        #expect(!first.contains("id=") && !first.contains("class=") && !first.contains("font"))
        let d = try #require(first.firstMatch(of: /<path d="([^"]*)"/)).output.1
        #expect(d.wholeMatch(of: /(M-?\d+\.\d -?\d+\.\d(L-?\d+\.\d -?\d+\.\d)( -?\d+\.\d -?\d+\.\d)*)+/) != nil)
        #expect(d.matches(of: /M/).count > 60)
    }

    @Test func noTwoSubpathsShareAnEnd() throws {
        let svg = CaptchaImage.svg("01234")
        let d = try #require(svg.firstMatch(of: /<path d="([^"]*)"/)).output.1
        var ends: [String] = []
        for subpath in d.split(separator: "M") {
            let numbers = subpath.split(whereSeparator: { $0 == " " || $0 == "L" })
            ends.append("\(numbers[0]) \(numbers[1])")
            ends.append("\(numbers[numbers.count - 2]) \(numbers[numbers.count - 1])")
        }
        // Points are moved on their own, so an exact repeat is chance, not structure.
        #expect(ends.count - Set(ends).count <= 2)
    }

    @Test func everyDigitHasTwoStylesInsideItsGrid() {
        #expect(CaptchaGlyphs.digits.count == 10)
        for (digit, styles) in CaptchaGlyphs.digits.enumerated() {
            #expect(styles.count == 2, "digit \(digit)")
            for point in styles.joined().joined() {
                #expect(
                    (-0.05...4.05).contains(point.x) && (-0.05...6.05).contains(point.y), "digit \(digit): \(point)")
            }
        }
    }

    @Test func theInkStaysNearThePicture() throws {
        for _ in 0..<20 {
            let svg = CaptchaImage.svg(CaptchaImage.code())
            let d = try #require(svg.firstMatch(of: /<path d="([^"]*)"/)).output.1
            let numbers = d.matches(of: /-?\d+\.\d/).compactMap { Double($0.output) }
            let xs = stride(from: 0, to: numbers.count, by: 2).map { numbers[$0] }
            let ys = stride(from: 1, to: numbers.count, by: 2).map { numbers[$0] }
            #expect(xs.allSatisfy { (-20...220).contains($0) } && ys.allSatisfy { (-20...90).contains($0) })
        }
    }
}
