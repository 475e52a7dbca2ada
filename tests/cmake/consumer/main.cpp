// SPDX-License-Identifier: Apache-2.0
// Publishes Greeter and calls it through the generated stub; exits 0 when the reply is right.
#include "greeter.h"
#include "greeter_stub.h"

#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QCoreApplication>
#include <cstdio>

class GreeterImpl : public Greeter
{
    Q_OBJECT
public:
    QString greet(const QString &name) override { return QStringLiteral("hello, ") + name; }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Tomato::RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    Tomato::RpcServer server(config);
    GreeterImpl impl;
    server.publish<Greeter>(&impl);
    if (!server.start())
        return 1;
    Tomato::RpcClient client;
    auto stub = client.createDirectStub<Greeter>(QStringLiteral("127.0.0.1"), server.port());
    const QString reply = stub->greet(QStringLiteral("consumer"));
    std::printf("%s\n", qPrintable(reply));
    return reply == QLatin1String("hello, consumer") ? 0 : 1;
}

#include "main.moc"
