import FastCGI
import Functions

FastCGIServer.run(TimeFunction.function)
