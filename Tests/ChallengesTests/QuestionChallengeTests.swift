import Foundation
import Testing

@testable import Challenges

@Suite struct QuestionChallengeTests {
    /// SplitMix64: the same draws on every run, so counts can be asserted exactly.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let digests = AnswerDigest(secret: [UInt8](repeating: 9, count: 32))

    /// 0 to 99 as the test reads them back from words, independently of the generator.
    static let numbersByWord: [String: Int] = {
        let units =
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
            + " sixteen seventeen eighteen nineteen"
        let tens = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
        let unitWords = units.split(separator: " ").map(String.init)
        let tenWords = tens.split(separator: " ").map(String.init)
        var table: [String: Int] = [:]
        for number in 0...99 {
            let word =
                number < 20
                ? unitWords[number]
                : tenWords[number / 10] + (number % 10 == 0 ? "" : "-" + unitWords[number % 10])
            table[word] = number
        }
        return table
    }()

    /// The numbers written in words in `text`, in order.
    static func numbers(in text: String) -> [Int] {
        text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "?" || $0 == ":" || $0 == "." })
            .compactMap { numbersByWord[String($0)] }
    }

    /// The text between the first pair of double quotes.
    static func quoted(_ text: String) -> String {
        String(text.split(separator: "\"", omittingEmptySubsequences: false)[1])
    }

    /// The words listed after the colon, up to the question mark.
    static func listed(_ text: String) -> [String] {
        let list = text.split(separator: ":")[1].dropLast()
        return list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The right answer to `question`, worked out from its text alone.
    static func solve(_ question: String) -> String? {
        let numbers = numbers(in: question)
        if question.hasPrefix("What is "), question.contains(" plus ") {
            let minus = question.contains(" minus ")
            return "\(numbers[0] + numbers[1] + (minus ? -numbers[2] : numbers[2]))"
        }
        if question.hasPrefix("Which is the ") {
            let sorted = question.contains("largest") ? numbers.sorted(by: >) : numbers.sorted()
            return "\(sorted[question.hasPrefix("Which is the second ") ? 1 : 0])"
        }
        if question.contains("first in the alphabet") { return listed(question).sorted().first }
        if question.contains("last in the alphabet") { return listed(question).sorted().last }
        if question.contains(" word of ") {
            let ordinals = ["first", "second", "third", "fourth", "fifth", "sixth"]
            let ordinal = ordinals.firstIndex { question.hasPrefix("What is the \($0) word") }!
            return quoted(question).split(separator: " ").map(String.init)[ordinal]
        }
        if question.hasPrefix("Which word is twice in ") {
            let words = quoted(question).split(separator: " ").map(String.init)
            let twice = Set(words.filter { word in words.filter { $0 == word }.count == 2 })
            return twice.count == 1 && words.count == 5 ? twice.first : nil
        }
        for kind in QuestionWords.kinds where question.hasPrefix("Which of these is \(kind.name):") {
            let members = listed(question).filter(kind.members.contains)
            return members.count == 1 ? members[0] : nil
        }
        return nil
    }

    @Test func everyKindsAnswerIsRightWorkedOutFromTheQuestionAlone() {
        var generator = SeededGenerator(state: 1)
        for kind in QuestionChallenge.Kind.allCases {
            for _ in 0..<200 {
                let drawn = kind.generate(using: &generator)
                #expect(Self.solve(drawn.question) == drawn.answer, "\(kind): \(drawn.question)")
            }
        }
    }

    /// Every generated answer is a number up to 200 or a word of its question, so a test that
    /// holds the secret finds it among few candidates, as it finds a picture's code.
    @Test func everyAnswerIsASmallNumberOrAWordOfTheQuestion() {
        var generator = SeededGenerator(state: 6)
        for _ in 0..<1000 {
            let drawn = QuestionChallenge.draw(own: [], using: &generator)
            let words = drawn.question.split(whereSeparator: { !$0.isLetter }).map(String.init)
            #expect(words.contains(drawn.answer) || (0...200).contains(Int(drawn.answer) ?? -1), "\(drawn)")
        }
    }

    /// A question whose answer is a number says so, since only one spelling can be right.
    @Test func aNumberIsAskedForInDigits() {
        var generator = SeededGenerator(state: 2)
        for _ in 0..<500 {
            let drawn = QuestionChallenge.draw(own: [], using: &generator)
            if Int(drawn.answer) != nil { #expect(drawn.question.hasSuffix("Answer in digits."), "\(drawn.question)") }
        }
    }

    /// The right answer, typed in another case and with other spacing, verifies; another does not.
    @Test func answersVerifyThroughTheAnswerDigest() {
        var generator = SeededGenerator(state: 3)
        for index in 0..<300 {
            let drawn = QuestionChallenge.draw(own: [], using: &generator)
            let id = "challenge-\(index)"
            let digest = Self.digests.digest(challenge: id, answer: drawn.answer)
            #expect(Self.digests.matches(digest, challenge: id, answer: "  \(drawn.answer.uppercased()) "))
            #expect(!Self.digests.matches(digest, challenge: id, answer: drawn.answer + "x"))
        }
    }

    /// The attack as filed replays a solved fixed set: here nearly every challenge is new.
    @Test func manyDrawsGiveManyDistinctQuestions() {
        var generator = SeededGenerator(state: 4)
        let questions = (0..<2000).map { _ in QuestionChallenge.draw(own: [], using: &generator).question }
        #expect(Set(questions).count >= 1990)
    }

    @Test func noPlainWordBelongsToAKindAndNoKindsShareAMember() {
        let members = QuestionWords.kinds.flatMap(\.members)
        #expect(Set(members).count == members.count)
        #expect(Set(members).isDisjoint(with: QuestionWords.plain))
        #expect(Set(QuestionWords.plain).count == QuestionWords.plain.count)
    }

    /// The operator's questions are asked in k / 100 of the challenges, half from 50 on.
    @Test(arguments: [(1, 5, 40), (10, 150, 250), (50, 900, 1100), (400, 900, 1100)])
    func theOperatorsQuestionsAppearInProportionToHowManyThereAre(_ count: Int, _ low: Int, _ high: Int) {
        var generator = SeededGenerator(state: UInt64(count))
        let own = (0..<count).map { (question: "Operator question \($0)?", answer: "answer \($0)") }
        let drawn = (0..<2000).map { _ in QuestionChallenge.draw(own: own, using: &generator) }
        let theirs = drawn.filter { $0.question.hasPrefix("Operator question") }
        #expect((low...high).contains(theirs.count), "\(theirs.count) of 2000")
        // Each with its own answer, and many different ones of them.
        #expect(theirs.allSatisfy { $0.answer == "answer \($0.question.dropFirst(18).dropLast())" })
        #expect(Set(theirs.map(\.question)).count >= min(count, theirs.count / 3))
    }

    @Test func withoutQuestionsOfTheOperatorsEveryQuestionIsGenerated() {
        var generator = SeededGenerator(state: 5)
        for _ in 0..<200 {
            #expect(Self.solve(QuestionChallenge.draw(own: [], using: &generator).question) != nil)
        }
    }
}
