// SPDX-License-Identifier: Apache-2.0
// server.cpp: publishes EchoService on 127.0.0.1:4567 and serves until stopped (Ctrl+C).
#include "echoservice.h"

#include <tomato/server/rpcserver.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>

#include <cstdio>

class EchoServiceImpl : public EchoService
{
public:
    QString echo(const QString &message) override { return message; }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);

    // Our defaults; --tomato-rpc.<key>=<value>, TOMATO_RPC_<KEY> or a file override them.
    // --help lists every key, a mistake is one line and exit code 2.
    Tomato::RpcConfig defaults;
    defaults.setHost(QStringLiteral("127.0.0.1"));
    defaults.setPort(4567);
    QCommandLineParser parser;
    const Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser, defaults);

    Tomato::RpcServer server(config);
    EchoServiceImpl echo;
    server.publish<EchoService>(&echo);
    if (!server.start()) {
        std::fprintf(stderr, "echo-server: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    return app.exec(); // the library logs "tomato.server: listening on tcp://127.0.0.1:4567"
}
