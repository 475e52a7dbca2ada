// SPDX-License-Identifier: Apache-2.0
// Serves Calc::Calculator and calls it through the stub exported by the installed
// libCalcApi; exits 0 when the reply is right.
#include <calc/calculator.h>
#include <calc/calculator_stub.h>

#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QCoreApplication>
#include <cstdio>

class CalculatorImpl : public Calc::Calculator
{
    Q_OBJECT
public:
    int add(int a, int b) override { return a + b; }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Tomato::RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    Tomato::RpcServer server(config);
    CalculatorImpl impl;
    server.publish<Calc::Calculator>(&impl);
    if (!server.start())
        return 1;
    Tomato::RpcClient client;
    std::unique_ptr<Calc::CalculatorStub> stub =
        client.createDirectStub<Calc::Calculator>(QStringLiteral("127.0.0.1"), server.port());
    const int sum = stub->add(20, 22);
    std::printf("20 + 22 = %d\n", sum);
    return sum == 42 ? 0 : 1;
}

#include "main.moc"
