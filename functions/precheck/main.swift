import Buying
import FastCGI

FastCGIServer.run(name: "precheck") { PrecheckFunction.function(try BuyingContext.fromEnvironment()) }
