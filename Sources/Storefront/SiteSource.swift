import Foundation
import Mustache

/// The storefront as the project keeps it (`lighttpd/static/`): the templates of the front
/// page (`index.html`) and of a sale's page (`sale.html`), the assets (everything under
/// `assets/`) that get content-hashed names, and every other file (`robots.txt`, images in
/// folders of their own) published as it is. Hidden files and folders are left out.
public struct SiteSource: Sendable {
    static let frontPageTemplate = "index.html"
    static let salePageTemplate = "sale.html"

    /// The folder read.
    public let directory: String
    let frontPage: MustacheTemplate
    let salePage: MustacheTemplate
    /// Path under `assets/` → content.
    let assets: [(name: String, bytes: [UInt8])]
    /// Every other file but the templates, at its path under the folder.
    let plainFiles: [SiteFile]

    /// Reads and parses everything in `directory`; throws naming the file at fault.
    public init(directory: String) throws(StorefrontError) {
        self.directory = directory
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StorefrontError(
                "no storefront at \(directory): run from the project folder or give --root (or $FLASHSALE_ROOT)")
        }
        frontPage = try Self.template(directory, Self.frontPageTemplate)
        salePage = try Self.template(directory, Self.salePageTemplate)
        assets = try Self.regularFiles(in: directory + "/" + CachePolicy.assetsFolder)
        let kept = [Self.frontPageTemplate, Self.salePageTemplate]
        plainFiles = try Self.regularFiles(in: directory)
            .filter { !kept.contains($0.name) && !$0.name.hasPrefix(CachePolicy.assetsFolder + "/") }
            .map { SiteFile(path: $0.name, bytes: $0.bytes) }
    }

    private static func template(_ directory: String, _ name: String) throws(StorefrontError) -> MustacheTemplate {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StorefrontError("the storefront template \(path) is missing")
        }
        do {
            return try MustacheTemplate(string: String(decoding: data, as: UTF8.self))
        } catch {
            throw StorefrontError("the storefront template \(path) does not parse: \(error)")
        }
    }

    /// The regular, visible files under `directory` at any depth, by path relative to it; none
    /// when it is absent.
    private static func regularFiles(in directory: String) throws(StorefrontError) -> [(name: String, bytes: [UInt8])] {
        guard let paths = FileManager.default.subpaths(atPath: directory) else { return [] }
        var found: [(String, [UInt8])] = []
        for name in paths.sorted() where !name.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            let path = directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StorefrontError("cannot read \(path)")
            }
            found.append((name, Array(data)))
        }
        return found
    }
}
