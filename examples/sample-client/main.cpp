// SPDX-License-Identifier: Apache-2.0
// tomato-sample-client: calls every method of the sample services on one server, blocking
// and through futures, and prints the replies.
//
//   tomato-sample-client [--server ADDRESS] [--tomato-rpc.<key>=<value>...]   (--help lists them)
//
// With --server it calls that server directly: tcp://host:port, tls://host:port,
// unix:///path, or host:port with the configured transport; otherwise it finds
// demo-rpc-service through the registry named by name-service-uri (instances of its own stage
// and group, each over the transport it registered), or calls 127.0.0.1:4567 when there is
// none. TLS needs tls-ca (and, for mutual TLS, tls-cert and tls-key).
// Exits 0 when every call succeeded, 1 otherwise.
//
// --every MS keeps calling (echo, sum, and now and then divide by zero: an application error)
// every MS milliseconds until stopped, printing a line per hundred rounds: the demo's steady
// trickle of calls. Through the registry it calls the micro-service named by micro-service-id
// when that is set, else demo-rpc-service.
#include "demoservice_stub.h"
#include "echoservice_stub.h"

#include <tomato/client/rpcclient.h>
#include <tomato/core/version.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <QtCore/QCoreApplication>
#include <QtCore/QStringList>
#include <atomic>
#include <cstdio>
#include <memory>

namespace {
void print(const QString &line)
{
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}
// One round every `ms` until the process is stopped; failures are counted, not fatal (an
// overloaded or stopped instance is part of the demo).
int keepCalling(Sample::EchoServiceStub &echo, Sample::DemoServiceStub &demo, int ms)
{
    quint64 rounds = 0;
    // Counted on whichever thread a call ends, maybe after this function has returned.
    const auto failures = std::make_shared<std::atomic<quint64>>(0);
    QTimer timer;
    QObject::connect(&timer, &QTimer::timeout, &timer, [&] {
        ++rounds;
        auto failed = [failures](QFuture<void> f) {
            f.onFailed([failures](const Tomato::RpcError &) { ++*failures; });
        };
        failed(echo.echoAsync(QStringLiteral("tick %1").arg(rounds)).then([](const QString &) {}));
        failed(demo.sumAsync({1, 2, 3, int(rounds % 100)}).then([](int) {}));
        if (rounds % 25 == 0)
            failed(demo.divideAsync(1, 0).then([](int) {}));
        if (rounds % 100 == 0)
            print(QStringLiteral("%1 rounds, %2 failed calls").arg(rounds).arg(failures->load()));
    });
    timer.start(qMax(1, ms));
    return QCoreApplication::exec();
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    app.setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Calls every method of the sample services and prints the replies. Exits 0 when\n"
        "every call succeeded, 1 when one failed, 2 for a mistake on the command line."));
    const QCommandLineOption serverOption(
        QStringLiteral("server"),
        QStringLiteral("Call this server directly: tcp://host:port, tls://host:port, unix:///path, or host:port "
                       "with the configured transport. Without it: the instances name-service-uri lists, else "
                       "127.0.0.1:4567."),
        QStringLiteral("address"));
    parser.addOption(serverOption);
    const QCommandLineOption everyOption(
        QStringLiteral("every"),
        QStringLiteral("Keep calling every MS milliseconds until stopped (SIGINT/SIGTERM), instead of once."),
        QStringLiteral("ms"));
    parser.addOption(everyOption);
    const Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser);
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "tomato-sample-client: unexpected argument '%s' (see --help)\n",
                     qPrintable(parser.positionalArguments().first()));
        return 2;
    }
    QString server = parser.value(serverOption);

    Tomato::RpcClient client(config);
    try {
        std::unique_ptr<Tomato::Registry> registry;
        std::unique_ptr<Sample::EchoServiceStub> echo;
        std::unique_ptr<Sample::DemoServiceStub> demo;
        if (server.isEmpty() && !config.nameServiceUri().isEmpty()) {
            try {
                Tomato::RegistryFactory registries;
                Tomato::ZooKeeperRegistry::registerScheme(registries);
                registry = registries.create(config);
            } catch (const Tomato::RpcError &e) {
                std::fprintf(stderr, "tomato-sample-client: %s\n", qPrintable(e.message()));
                return 2;
            }
            client.setRegistry(registry.get());
            const QString id = config.isSetByUser(QStringLiteral("micro-service-id")) ? config.microServiceId()
                                                                                       : QStringLiteral("demo-rpc-service");
            echo = std::make_unique<Sample::EchoServiceStub>(client.clusterChannel(id));
            demo = std::make_unique<Sample::DemoServiceStub>(client.clusterChannel(id));
            // Wait (at most 10 s) until the registry has named an instance.
            QEventLoop loop;
            QTimer::singleShot(10000, &loop, &QEventLoop::quit);
            QObject::connect(&client, &Tomato::RpcClient::instancesChanged, &loop,
                             [&](const QString &, const QStringList &addresses) {
                                 if (!addresses.isEmpty())
                                     loop.quit();
                             });
            if (client.instances(id).isEmpty())
                loop.exec();
            print(QStringLiteral("registry:        %1 -> %2")
                      .arg(echo->stubCore().channel().describe(), client.instances(id).join(QLatin1Char(' '))));
        } else {
            if (server.isEmpty())
                server = QStringLiteral("127.0.0.1:4567");
            try {
                echo = client.createDirectStub<Sample::EchoService>(server);
                demo = client.createDirectStub<Sample::DemoService>(server);
            } catch (const Tomato::RpcError &e) {
                std::fprintf(stderr, "tomato-sample-client: --server: %s\n", qPrintable(e.message()));
                return 2;
            }
        }

        if (parser.isSet(everyOption))
            return keepCalling(*echo, *demo, parser.value(everyOption).toInt());
        print(QStringLiteral("echo (blocking): %1").arg(echo->echo(QStringLiteral("hello, tomato"))));
        QFuture<QString> future = echo->echoAsync(QStringLiteral("hello again, asynchronously"));
        print(QStringLiteral("echo (future):   %1").arg(future.result()));

        Sample::DemoRequest request;
        request.text = QStringLiteral("demo");
        request.numbers = {5, 3, 8, 1};
        request.attributes = {QVariantMap{{QStringLiteral("colour"), QStringLiteral("red")}},
                              QVariantMap{{QStringLiteral("size"), 42}}};
        print(QStringLiteral("describe:        %1").arg(demo->describe(request)));
        const Sample::DemoRequest normalized = demo->normalizeAsync(request).result();
        QStringList numbers;
        for (int n : normalized.numbers)
            numbers << QString::number(n);
        print(QStringLiteral("normalize:       numbers=%1 attributes=%2")
                  .arg(numbers.join(QLatin1Char(',')))
                  .arg(normalized.attributes.size()));
        print(QStringLiteral("sum(1..10):      %1").arg(demo->sum({1, 2, 3, 4, 5, 6, 7, 8, 9, 10})));
        demo->notify(QStringLiteral("sample-client ran"));
        demo->notifyAsync(QStringLiteral("and again")).waitForFinished();
        print(QStringLiteral("notifications:   %1").arg(demo->notifications()));
        // Asynchronous methods: declared to return QFuture<T>, so the stub's form returns the
        // call's future too; the server answers when its own future finishes.
        print(QStringLiteral("shout:           %1").arg(Tomato::waitFor(demo->shout(QStringLiteral("quiet")))));
        print(QStringLiteral("primes < 10^6:   %1").arg(Tomato::waitFor(demo->countPrimes(1000000))));
        print(QStringLiteral("echoAll:         %1")
                  .arg(Tomato::waitFor(demo->echoAll({QStringLiteral("a"), QStringLiteral("b")})).join(QLatin1String(" | "))));
    } catch (const Tomato::RpcError &e) {
        print(QStringLiteral("call failed: %1").arg(e.toString()));
        return 1;
    }
    return 0;
}
