import Buying
import FastCGI

FastCGIServer.run(name: "guest") { try GuestFunction.fromEnvironment() }
