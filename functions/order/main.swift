import Buying
import FastCGI

FastCGIServer.run(name: "order") { OrderFunction.function(try BuyingContext.fromEnvironment()) }
