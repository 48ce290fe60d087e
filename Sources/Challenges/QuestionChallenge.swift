/// The question of a `question` captcha, drawn per challenge: mostly made up on the spot
/// (a sum in words, the second largest of four numbers, the third word of a phrase, …), so that a
/// script cannot solve a fixed set once and replay the answers; sometimes one of the
/// operator's own. Answers are checked by ``AnswerDigest``, so case and spacing do not count;
/// a question whose answer is a number asks for digits.
///
/// A generated question stops replay, not a script written for this generator: its templates
/// are in this open file. The operator's own questions, about the product or the shop, are
/// what such a script cannot parse (see docs/scripts.md, "Question challenges").
public enum QuestionChallenge {
    public typealias Question = (question: String, answer: String)

    /// With this many questions of their own or more, the operator's are asked in half the
    /// challenges; with k fewer, in k / (2 × this) of them. A script solves a set of k after
    /// about k·ln k challenges and replays it from then on, so a small set is asked rarely.
    public static let ownQuestionsForHalf = 50

    /// A question and its answer: one of `own` (the operator's) with the chance above, else a
    /// generated one.
    public static func draw(own: [Question]) -> Question {
        var generator = SystemRandomNumberGenerator()
        return draw(own: own, using: &generator)
    }

    /// ``draw(own:)`` with the randomness of `generator`.
    public static func draw(own: [Question], using generator: inout some RandomNumberGenerator) -> Question {
        let ownShare = min(own.count, ownQuestionsForHalf)
        if ownShare > 0, Int.random(in: 0..<(2 * ownQuestionsForHalf), using: &generator) < ownShare {
            return own[Int.random(in: 0..<own.count, using: &generator)]
        }
        return Kind.allCases.randomElement(using: &generator)!.generate(using: &generator)
    }

    /// The kinds of generated question, each with far more variants than a script could collect
    /// answered (millions, a hundred thousand for the sums).
    enum Kind: CaseIterable {
        /// "What is thirty-one plus seven minus four?": three numbers added or subtracted.
        case arithmetic
        /// "Which is the second largest of: …?" (or the smallest, …), four numbers in words.
        case rank
        /// "What is the third word of "…"?", in a phrase of four to six words.
        case nthWord
        /// "Which word is twice in "…"?", a phrase of five words.
        case repeatedWord
        /// "Which of these comes first in the alphabet: …?" (or last), four words of different initials.
        case alphabetical
        /// "Which of these is a fruit: …?", one fruit among three plain words.
        case kindOf

        func generate(using generator: inout some RandomNumberGenerator) -> Question {
            let spelled = QuestionWords.spelled
            let digits = " Answer in digits."
            switch self {
            case .arithmetic:
                let (a, b) = (Int.random(in: 2...49, using: &generator), Int.random(in: 2...49, using: &generator))
                if Bool.random(using: &generator) {
                    let c = Int.random(in: 2...49, using: &generator)
                    return ("What is \(spelled(a)) plus \(spelled(b)) plus \(spelled(c))?" + digits, "\(a + b + c)")
                }
                let c = Int.random(in: 1..<min(a + b, 100), using: &generator)
                return ("What is \(spelled(a)) plus \(spelled(b)) minus \(spelled(c))?" + digits, "\(a + b - c)")
            case .rank:
                let numbers = distinct(4, of: Array(1...99), using: &generator)
                let largest = Bool.random(using: &generator)
                let second = Bool.random(using: &generator)
                let list = numbers.map(spelled).joined(separator: ", ")
                let sorted = largest ? numbers.sorted(by: >) : numbers.sorted()
                let which = "\(second ? "second " : "")\(largest ? "largest" : "smallest")"
                return ("Which is the \(which) of: \(list)?" + digits, "\(sorted[second ? 1 : 0])")
            case .nthWord:
                let length = Int.random(in: 4...6, using: &generator)
                let words = distinct(length, of: QuestionWords.plain, using: &generator)
                let index = Int.random(in: 0..<words.count, using: &generator)
                let phrase = words.joined(separator: " ")
                return ("What is the \(QuestionWords.ordinals[index]) word of \"\(phrase)\"?", words[index])
            case .repeatedWord:
                var words = distinct(4, of: QuestionWords.plain, using: &generator)
                let twice = words[0]
                words.append(twice)
                words.shuffle(using: &generator)
                return ("Which word is twice in \"\(words.joined(separator: " "))\"?", twice)
            case .alphabetical:
                var words: [String] = []
                for word in QuestionWords.plain.shuffled(using: &generator)
                where words.count < 4 && !words.contains(where: { $0.first == word.first }) {
                    words.append(word)
                }
                let first = Bool.random(using: &generator)
                let list = words.joined(separator: ", ")
                return (
                    "Which of these comes \(first ? "first" : "last") in the alphabet: \(list)?",
                    first ? words.min()! : words.max()!
                )
            case .kindOf:
                let kind = QuestionWords.kinds.randomElement(using: &generator)!
                let member = kind.members.randomElement(using: &generator)!
                var words = distinct(3, of: QuestionWords.plain, using: &generator)
                words.insert(member, at: Int.random(in: 0...words.count, using: &generator))
                return ("Which of these is \(kind.name): \(words.joined(separator: ", "))?", member)
            }
        }

        /// `count` different elements of `pool`, in random order.
        private func distinct<T>(_ count: Int, of pool: [T], using generator: inout some RandomNumberGenerator) -> [T] {
            Array(pool.shuffled(using: &generator).prefix(count))
        }
    }
}
