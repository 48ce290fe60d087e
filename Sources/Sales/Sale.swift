/// A sale as the database holds it. Times are milliseconds since the epoch; the price is in
/// minor units (cents).
public struct Sale: Codable, Sendable, Equatable {
    public var id: String
    /// The sale's slot in the stock segment, assigned at creation.
    public var slot: Int
    public var title: String
    public var price: Int64
    public var stock: Int64
    public var remaining: Int64
    /// Bumped by every change to `remaining`: the optimistic-lock version of the inventory row.
    public var version: Int64
    public var startsAt: Int64
    public var endsAt: Int64?
    /// The random part of the order URL, revealed only once the sale is open.
    public var secret: String
    public var createdAt: Int64
    /// Token and order requests a client address may make per second for this sale; 0 is no limit.
    public var perIPRate: Int64
    /// The account level (the identity's `level` claim) a buyer needs; 0 lets anyone buy.
    public var minLevel: Int64
    /// The challenge a buyer passes before a token is issued.
    public var captcha: CaptchaMode
    /// Leading zero bits a proof-of-work solution must have at token issue; 0 asks none.
    public var powBits: Int64

    public init(
        id: String, slot: Int, title: String, price: Int64, stock: Int64, remaining: Int64, version: Int64,
        startsAt: Int64, endsAt: Int64?, secret: String, createdAt: Int64, perIPRate: Int64 = 0, minLevel: Int64 = 0,
        captcha: CaptchaMode = .off, powBits: Int64 = 0
    ) {
        self.id = id
        self.slot = slot
        self.title = title
        self.price = price
        self.stock = stock
        self.remaining = remaining
        self.version = version
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.secret = secret
        self.createdAt = createdAt
        self.perIPRate = perIPRate
        self.minLevel = minLevel
        self.captcha = captcha
        self.powBits = powBits
    }

    public var sold: Int64 { stock - remaining }

    /// Where the sale stands at `nowMs`.
    public func state(at nowMs: Int64) -> SaleState {
        if let endsAt, nowMs >= endsAt { return .ended }
        if nowMs < startsAt { return .scheduled }
        return remaining == 0 ? .soldOut : .open
    }
}

/// The phases of a sale.
public enum SaleState: String, Codable, Sendable, CaseIterable {
    case scheduled, open
    case soldOut = "sold_out"
    case ended
}

/// What an operator gives to create a sale.
public struct NewSale: Sendable, Equatable {
    public var id: String
    public var title: String
    public var price: Int64
    public var stock: Int64
    public var startsAt: Int64
    public var endsAt: Int64?
    /// Requests per second per client address; 0 is no limit.
    public var perIPRate: Int64
    /// The account level a buyer needs; 0 lets anyone buy.
    public var minLevel: Int64
    /// The challenge a buyer passes before a token is issued.
    public var captcha: CaptchaMode
    /// The operator's own questions of a `question` captcha, asked among generated ones.
    public var questions: [SaleQuestion]
    /// Leading zero bits of the proof of work asked at token issue; 0 asks none.
    public var powBits: Int64

    public init(
        id: String, title: String, price: Int64, stock: Int64, startsAt: Int64, endsAt: Int64?, perIPRate: Int64 = 0,
        minLevel: Int64 = 0, captcha: CaptchaMode = .off, questions: [SaleQuestion] = [], powBits: Int64 = 0
    ) {
        self.id = id
        self.title = title
        self.price = price
        self.stock = stock
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.perIPRate = perIPRate
        self.minLevel = minLevel
        self.captcha = captcha
        self.questions = questions
        self.powBits = powBits
    }

    /// The largest stock one sale may hold.
    public static let maxStock: Int64 = 10_000_000
    /// The most leading zero bits a proof of work may ask: 2^24 hashes is seconds in a browser.
    public static let maxPowBits: Int64 = 24
    /// The highest per-address rate a sale may set, in requests per second.
    public static let maxPerIPRate: Int64 = 1000

    /// Throws the first value an operator must fix.
    public func validate() throws(StoreError) {
        let allowed = id.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        guard (1...64).contains(id.utf8.count), allowed, !id.hasPrefix("-") else {
            throw .invalid(
                "sale id \"\(id)\" must be 1 to 64 lowercase letters, digits and dashes, not starting with a dash")
        }
        guard (1...200).contains(title.unicodeScalars.count),
            !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw .invalid("the title must be 1 to 200 characters, none of them a control character") }
        guard price >= 0 else { throw .invalid("the price must be 0 or more (in cents)") }
        guard (1...Self.maxStock).contains(stock) else {
            throw .invalid("the stock must be between 1 and \(Self.maxStock)")
        }
        if let endsAt, endsAt <= startsAt { throw .invalid("the end must be after the start") }
        guard (0...Self.maxPerIPRate).contains(perIPRate) else {
            throw .invalid("the per-address rate must be 0 (no limit) to \(Self.maxPerIPRate) requests a second")
        }
        guard minLevel >= 0 else { throw .invalid("the minimum account level must be 0 (anyone) or more") }
        guard (0...Self.maxPowBits).contains(powBits) else {
            throw .invalid("the proof of work must be 0 (none) to \(Self.maxPowBits) bits")
        }
        guard captcha == .question || questions.isEmpty else {
            throw .invalid("questions of your own need --captcha question")
        }
        for question in questions {
            let printable = { (text: String) in
                (1...500).contains(text.unicodeScalars.count)
                    && !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            }
            guard printable(question.question), printable(question.answer) else {
                throw .invalid("a question and its answer must each be 1 to 500 characters, without control characters")
            }
        }
    }
}

/// An order the database holds.
public struct Order: Codable, Sendable, Equatable {
    public var id: Int64
    public var sale: String
    public var user: String
    public var createdAt: Int64
    public var status: String

    public init(id: Int64, sale: String, user: String, createdAt: Int64, status: String) {
        self.id = id
        self.sale = sale
        self.user = user
        self.createdAt = createdAt
        self.status = status
    }

    /// The status of an order just placed (the store's default).
    public static let newStatus = "placed"
}

/// The challenge a sale asks of a buyer before a token: none, a distorted code to read, or one
/// of the sale's own questions.
public enum CaptchaMode: String, Codable, Sendable, CaseIterable {
    case off, image, question
}

/// A question of a sale's `question` captcha and its answer (case and spacing do not count).
public struct SaleQuestion: Codable, Sendable, Equatable {
    public var question: String
    public var answer: String

    public init(question: String, answer: String) {
        self.question = question
        self.answer = answer
    }
}
