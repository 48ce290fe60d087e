import Buying
import FastCGI

FastCGIServer.run(name: "sale-flag") { SaleFlagFunction.function(try BuyingContext.fromEnvironment()) }
