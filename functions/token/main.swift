import Buying
import FastCGI

FastCGIServer.run(name: "token") { TokenFunction.function(try BuyingContext.fromEnvironment()) }
