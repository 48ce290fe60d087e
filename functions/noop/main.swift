import FastCGI
import Functions

FastCGIServer.run(NoopFunction.function)
