import Buying
import FastCGI

FastCGIServer.run(name: "captcha") { CaptchaFunction.function(try BuyingContext.fromEnvironment()) }
