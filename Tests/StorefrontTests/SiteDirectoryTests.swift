import Foundation
import Storefront
import TestSupport
import Testing

@Suite struct SiteDirectoryTests {
    @Test func publishingRewritesOnlyWhatChangedAndKeepsOldAssets() throws {
        let folder = try TemporaryDirectory("pub")
        defer { folder.remove() }
        let site = SiteDirectory(path: folder.path + "/site")
        try site.publish([
            SiteFile(path: "index.html", bytes: Array("one".utf8)),
            SiteFile(path: "assets/app.aaaaaaaaaa.js", bytes: [1]),
        ])
        let inode = { (name: String) in
            (try FileManager.default.attributesOfItem(atPath: "\(site.path)/\(name)")[.systemFileNumber] as? Int)
        }
        let before = try #require(try inode("assets/app.aaaaaaaaaa.js"))
        let indexBefore = try #require(try inode("index.html"))
        try site.publish([
            SiteFile(path: "index.html", bytes: Array("two".utf8)),
            SiteFile(path: "assets/app.aaaaaaaaaa.js", bytes: [1]),
            SiteFile(path: "assets/app.bbbbbbbbbb.js", bytes: [2]),
        ])
        #expect(try inode("assets/app.aaaaaaaaaa.js") == before)
        #expect(try inode("index.html") != indexBefore)
        #expect(try String(contentsOfFile: site.path + "/index.html", encoding: .utf8) == "two")
        #expect(FileManager.default.fileExists(atPath: site.path + "/assets/app.bbbbbbbbbb.js"))
    }

    @Test func aPathOutsideTheSiteIsRefused() throws {
        let folder = try TemporaryDirectory("pub")
        defer { folder.remove() }
        for path in ["../escape.html", "/etc/x", "s/../../x"] {
            #expect(throws: StorefrontError.self) {
                try SiteDirectory(path: folder.path + "/site").publish([SiteFile(path: path, bytes: [1])])
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/escape.html"))
    }
}
