/// The words generated questions are made of: numbers spelled out, plain nouns, and three
/// kinds of thing (colours, animals, fruits) that no plain noun belongs to.
enum QuestionWords {
    private static let units = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    ]
    private static let tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

    /// `number` (0 to 99) in words: "seven", "forty", "thirty-one".
    static func spelled(_ number: Int) -> String {
        precondition((0...99).contains(number), "numbers in words go from 0 to 99")
        if number < 20 { return units[number] }
        let unit = number % 10
        return unit == 0 ? tens[number / 10] : "\(tens[number / 10])-\(units[unit])"
    }

    static let ordinals = ["first", "second", "third", "fourth", "fifth", "sixth"]

    /// Everyday nouns, none of them a colour, an animal or a fruit.
    static let plain = [
        "anchor", "basket", "bottle", "bridge", "button", "candle", "carpet", "castle", "chair", "cloud", "desk",
        "engine", "fence", "forest", "garden", "hammer", "island", "jacket", "kettle", "ladder", "lamp", "letter",
        "market", "mirror", "needle", "number", "ocean", "paper", "pencil", "planet", "pocket", "river", "rocket",
        "saucer", "shovel", "spoon", "stone", "summer", "table", "ticket", "tunnel", "uncle", "valley", "violin",
        "wallet", "window", "winter", "yard",
    ]

    /// Kinds of thing a question may ask to pick out, each with its members.
    static let kinds: [(name: String, members: [String])] = [
        ("a colour", ["red", "blue", "green", "yellow", "purple", "brown", "black", "white", "pink", "grey"]),
        (
            "an animal",
            ["horse", "cat", "dog", "cow", "sheep", "goat", "lion", "tiger", "mouse", "rabbit", "duck", "bear", "wolf"]
        ),
        ("a fruit", ["apple", "banana", "cherry", "grape", "lemon", "mango", "pear", "plum", "peach", "melon"]),
    ]
}
