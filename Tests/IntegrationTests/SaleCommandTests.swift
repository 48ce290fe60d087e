import Basics
import Foundation
import Hosting
import Identity
import TestSupport
import Testing

/// `flashsale sale …`, `orders` and `reconcile` as an operator meets them.
@Suite struct SaleCommandTests {
    let data: TemporaryDirectory

    init() throws {
        data = try TemporaryDirectory("sales")
        #expect(try FlashsaleCommand.run("init --data \(data.path)").status == 0)
    }

    func flashsale(_ arguments: String) throws -> FlashsaleCommand.Result {
        try FlashsaleCommand.run("\(arguments) --data \(data.path)")
    }

    func salesJSON() throws -> [[String: Any]] {
        let list = try flashsale("sale list --json")
        return try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
    }

    @Test func aSaleIsCreatedListedShownAndReconciled() throws {
        defer { data.remove() }
        let created = try flashsale(
            "sale create spring --title 'Spring sale' --price 1999 --stock 50 --starts-in 3600 --ends-in 7200 --json")
        #expect(created.status == 0)
        let sale = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        #expect(sale["state"] as? String == "scheduled")
        #expect(sale["stock"] as? Int == 50)
        #expect(sale["remaining"] as? Int == 50)
        #expect(sale["sold"] as? Int == 0)
        #expect((sale["segment"] as? [String: Any])?["remaining"] as? Int == 50)
        #expect(sale["secret"] == nil)

        #expect(
            try flashsale("sale create xmas --title Xmas --price 500 --stock 3 --start 2030-12-24T18:00:00Z").status
                == 0)
        #expect(try salesJSON().map { $0["id"] as? String } == ["spring", "xmas"])
        let table = try flashsale("sale list")
        #expect(table.stdout.hasPrefix("ID "))
        #expect(table.stdout.contains("xmas    scheduled  3"))
        let shown = try flashsale("sale show xmas")
        #expect(shown.stdout.contains("starts:    2030-12-24T18:00:00.000Z"))
        #expect(shown.stdout.contains("state:     scheduled"))
        #expect(shown.stdout.contains("per IP:    no limit") && shown.stdout.contains("level:     anyone"))

        let guarded = try flashsale(
            "sale create vip --title V --price 1 --stock 3 --starts-in 60 --per-ip-rate 5 --min-level 2 --json")
        let vip = try #require(try JSONSerialization.jsonObject(with: Data(guarded.stdout.utf8)) as? [String: Any])
        #expect(vip["perIPRate"] as? Int == 5 && vip["minLevel"] as? Int == 2)
        #expect(try flashsale("sale show vip").stdout.contains("per IP:    5 requests/s"))
        let quiz = try flashsale(
            "sale create quiz --title Q --price 1 --stock 3 --starts-in 60 --captcha question --question 'Two and two?' --answer four --question 'Sky?' --answer blue"
        )
        #expect(quiz.status == 0, "\(quiz.stderr)")
        #expect(try flashsale("sale show quiz").stdout.contains("captcha:   question"))

        let reconciled = try flashsale("reconcile spring")
        #expect(reconciled.status == 0)
        #expect(reconciled.stdout == "spring: segment remaining 50 → 50 (from the database)\n")
        let orders = try flashsale("orders spring")
        #expect(orders.stdout == "id,sale,user,created_at,status\n")
        #expect(
            try flashsale("orders spring --format json").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == "[\n\n]")
    }

    @Test(arguments: [
        ("sale create x --title t --price 1 --stock 0 --starts-in 1", "the stock must be between 1 and"),
        ("sale create x --title t --price 1 --stock=-3 --starts-in 1", "the stock must be between 1 and"),
        ("sale create x --title t --price=-1 --stock 3 --starts-in 1", "the price must be 0 or more"),
        ("sale create x --title t --price 1 --stock 3 --starts-in 60 --ends-in 30", "the end must be after the start"),
        (
            "sale create x --title t --price 1 --stock 3 --start 2030-01-02T00:00:00Z --end 2030-01-01T00:00:00Z",
            "the end must be after the start"
        ),
        ("sale create X_Y --title t --price 1 --stock 3 --starts-in 1", "sale id \"X_Y\" must be"),
        ("sale create spring --title t --price 1 --stock 3 --starts-in 1", "a sale with id \"spring\" already exists"),
        ("sale create x --title t --price 1 --stock 3 --start tomorrow", "--start wants an ISO 8601 time"),
        ("sale create x --title t --price 1 --stock 3 --start 2030-02-30T00:00:00Z", "is not a real time"),
        ("sale create x --title t --price 1 --stock 3 --start 2030-01-01T25:00:00Z", "is not a real time"),
        ("sale create x --title t --price 1 --stock 3 --starts-in 9223372036854775", "within ten years"),
        ("sale create x --title t --price 1 --stock 3", "give exactly one of --starts-in and --start"),
        ("sale create x --title t --price 1 --stock 3 --starts-in 1 --per-ip-rate 1001", "per-address rate must be"),
        ("sale create x --title t --price 1 --stock 3 --starts-in 1 --per-ip-rate=-1", "per-address rate must be"),
        ("sale create x --title t --price 1 --stock 3 --starts-in 1 --min-level=-1", "minimum account level"),
        (
            "sale create x --title t --price 1 --stock 3 --starts-in 1 --captcha image --question q --answer a",
            "need --captcha question"
        ),
        (
            "sale create x --title t --price 1 --stock 3 --starts-in 1 --captcha question --question q",
            "one --answer for each"
        ),
        ("sale create x --title t --price 1 --stock 3 --starts-in 1 --captcha audio", "audio"),
        ("sale show nope", "no sale has id \"nope\""),
        ("orders nope", "no sale has id \"nope\""),
        ("reconcile nope", "no sale has id \"nope\""),
        ("orders spring --format xml", "xml"),
    ])
    func badValuesAreOneClearLineAndChangeNothing(_ arguments: String, message: String) throws {
        defer { data.remove() }
        #expect(try flashsale("sale create spring --title S --price 1 --stock 5 --starts-in 60").status == 0)
        let before = try flashsale("sale list --json").stdout
        let result = try flashsale(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message))
        #expect(try flashsale("sale list --json").stdout == before)
    }

    @Test func userTokenPrintsATokenTheFunctionsAccept() throws {
        defer { data.remove() }
        let printed = try flashsale("user-token alice --ttl 120")
        #expect(printed.status == 0)
        let directory = DataDirectory(path: data.path)
        let signer = TokenSigner(secret: try directory.keyBytes(directory.identityKey))
        let claims = try signer.verify(printed.stdout.trimmingCharacters(in: .newlines), as: UserClaims.self)
        #expect(claims.sub.value == "alice" && claims.level == nil)
        let levelled = try flashsale("user-token bob --level 4").stdout.trimmingCharacters(in: .newlines)
        #expect(try signer.verify(levelled, as: UserClaims.self).level == 4)
        let left = claims.exp.value.timeIntervalSinceNow
        #expect(left > 100 && left <= 120)
        let other = TokenSigner(secret: Array(repeating: 7, count: 32))
        #expect(throws: TokenError.badSignature) {
            try other.verify(printed.stdout.trimmingCharacters(in: .newlines), as: UserClaims.self)
        }
        for bad in ["''", "\"$(printf 'a\\tb')\""] {
            let refused = try flashsale("user-token \(bad)")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("cannot be used"))
        }
    }

    @Test func commandsOnAMissingDataDirectorySayRunInit() throws {
        defer { data.remove() }
        let result = try FlashsaleCommand.run("sale list --data \(data.path)/missing")
        #expect(result.status == 1)
        #expect(result.stderr.contains("does not exist: run `flashsale init` first"))
    }
}
