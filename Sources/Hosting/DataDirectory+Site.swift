import Basics
import Sales
import Storefront

extension DataDirectory {
    /// Publishes the storefront for `sales` into ``site``, the folder lighttpd serves.
    public func publishSite(_ storefront: Storefront, sales: [Sale]) throws {
        try SiteDirectory(path: site).publish(storefront.files(sales: sales))
    }
}
