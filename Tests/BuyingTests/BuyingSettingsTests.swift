import Buying
import Testing

@Suite struct BuyingSettingsTests {
    @Test func defaultsNeedOnlyTheDataDirectory() throws {
        let settings = try BuyingSettings(environment: ["FLASHSALE_DATA": "/srv/flashsale"])
        #expect(settings == BuyingSettings(dataDirectory: "/srv/flashsale"))
        #expect(settings.tokenLifetimeMs == 30_000 && settings.admissionMultiple == 10)
        #expect(settings.synchronous == .full && settings.orderQueueLimit == 64 && settings.orderRefusalsInARow == 4)
    }

    @Test func everyValueIsRead() throws {
        let settings = try BuyingSettings(environment: [
            "FLASHSALE_DATA": "/d", "FLASHSALE_TOKEN_TTL_SECONDS": "45", "FLASHSALE_ADMISSION_MULTIPLE": "3",
            "FLASHSALE_RECONCILE_INTERVAL_MS": "500", "FLASHSALE_SYNCHRONOUS": "normal",
            "FLASHSALE_ORDER_QUEUE_LIMIT": "0", "FLASHSALE_ORDER_REFUSALS_IN_A_ROW": "2",
            "FLASHSALE_ACCOUNT_LEASE_MS": "2500", "FLASHSALE_RATE_BLOCK_SECONDS": "5",
            "FLASHSALE_TRUSTED_PROXIES": "10.0.0.1, ::1",
        ])
        #expect(
            settings
                == BuyingSettings(
                    dataDirectory: "/d", tokenLifetimeMs: 45_000, admissionMultiple: 3, reconcileIntervalMs: 500,
                    synchronous: .normal, orderQueueLimit: 0, orderRefusalsInARow: 2, accountLeaseMs: 2_500,
                    rateBlockMs: 5_000, trustedProxies: ["10.0.0.1", "::1"]))
    }

    @Test(
        arguments: [
            ([:], "FLASHSALE_DATA is not set"),
            (
                ["FLASHSALE_TOKEN_TTL_SECONDS": "0"],
                "FLASHSALE_TOKEN_TTL_SECONDS=0 must be a whole number from 1 to 3600"
            ),
            (["FLASHSALE_TOKEN_TTL_SECONDS": "30s"], "FLASHSALE_TOKEN_TTL_SECONDS=30s must be"),
            (["FLASHSALE_ADMISSION_MULTIPLE": "-1"], "FLASHSALE_ADMISSION_MULTIPLE=-1 must be"),
            (["FLASHSALE_RECONCILE_INTERVAL_MS": "1"], "FLASHSALE_RECONCILE_INTERVAL_MS=1 must be"),
            (["FLASHSALE_SYNCHRONOUS": "OFF"], "FLASHSALE_SYNCHRONOUS=OFF must be FULL or NORMAL"),
            (["FLASHSALE_ORDER_QUEUE_LIMIT": ""], "FLASHSALE_ORDER_QUEUE_LIMIT= must be"),
            (["FLASHSALE_ACCOUNT_LEASE_MS": "60001"], "FLASHSALE_ACCOUNT_LEASE_MS=60001 must be"),
            (["FLASHSALE_RATE_BLOCK_SECONDS": "0"], "FLASHSALE_RATE_BLOCK_SECONDS=0 must be"),
            (["FLASHSALE_TRUSTED_PROXIES": "10.0.0.0/8"], "FLASHSALE_TRUSTED_PROXIES=10.0.0.0/8 must be IPv4 or IPv6"),
            (["FLASHSALE_ACCOUNT_LEASE_MS": "100"], "FLASHSALE_ACCOUNT_LEASE_MS=100 must be"),
            (
                ["FLASHSALE_TRUSTED_PROXIES": "10.0.0.1,,x"],
                "FLASHSALE_TRUSTED_PROXIES=10.0.0.1,,x must be IPv4 or IPv6"
            ),
        ] as [([String: String], String)])
    func aBadValueIsRefusedWithWhatToFix(environment: [String: String], message: String) {
        let withData = environment.isEmpty ? environment : environment.merging(["FLASHSALE_DATA": "/d"]) { $1 }
        #expect {
            try BuyingSettings(environment: withData)
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }
}
