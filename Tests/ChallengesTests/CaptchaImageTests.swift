import Foundation
import Testing

@testable import Challenges

@Suite struct CaptchaImageTests {
    @Test func numbersAreWrittenWithOneDecimalToTheNearestTenth() throws {
        for value in [0.0, 0.04, 0.06, 1.25, 3.14159, 9.95, 99.949, 199.99, 70.0, -0.2, -3.75, -12.06] {
            let written = CaptchaImage.fixed(value)
            #expect(written.wholeMatch(of: /-?\d+\.\d/) != nil, "\(written)")
            #expect(abs(try #require(Double(written)) - value) <= 0.05 + 1e-9, "\(value) as \(written)")
        }
        #expect(CaptchaImage.fixed(3.14159) == "3.1")
        #expect(CaptchaImage.fixed(-12.06) == "-12.1")
    }

    @Test func thePictureIsPathsOnlyAndNeverTheSameTwice() throws {
        let code = CaptchaImage.code()
        #expect(code.count == 5 && code.allSatisfy(\.isNumber))
        let first = CaptchaImage.svg(code)
        #expect(first != CaptchaImage.svg(code))
        #expect(first.hasPrefix("<svg ") && first.hasSuffix("</svg>"))
        let elements = first.matches(of: /<(\w+)/).map { String($0.output.1) }
        #expect(Set(elements) == ["svg", "rect", "path"])
        // Nothing between tags: no text node can spell the code.
        #expect(first.matches(of: />[^<]/).isEmpty)
        // Every path is one straight piece, in numbers with one decimal.
        let paths = first.matches(of: /<path d="M(-?\d+\.\d) (-?\d+\.\d) L(-?\d+\.\d) (-?\d+\.\d)"/)
        #expect(paths.count == elements.filter { $0 == "path" }.count)
        #expect(paths.count > 25 + 5 * 2)
    }
}
