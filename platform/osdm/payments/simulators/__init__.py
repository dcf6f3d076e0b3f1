"""Local stand-ins for the payment gateways: real HTTP servers that speak each gateway's API and sign
their callbacks the way the gateway does. Used by the tests and by `make run`, so the demo can pay
with every method offline."""
