// SPDX-License-Identifier: Apache-2.0
// tomato-partition-consumer: the consumer of tst_partitions. It finds demo-rpc-service through
// the registry that name-service-uri names and calls Sample::EchoService::echo (idempotent)
// steadily from --callers threads, and reports on standard output, one line each, for the
// test to read:
//
//   READY <instances>                     once --expect instances are known and calls begin
//   TICK <ms> ok=<n> failed=<n> zk=<0|1> inv=<address>|<state>|<connected 0/1>|<calls>|<failures>|<start ms> ...
//                                         every 100 ms: the call counts so far, whether the
//                                         registry is connected, every invoker of the service
//   STATE <ms> <address> <state> <0|1>    an invoker's state or connection changed (checked every 10 ms)
//   INSTANCES <ms> <address>...           the registry's list changed (as RpcClient reports it)
//   ZK <ms> <0|1>                         the registry connected or disconnected
//   FAIL <ms> <error>                     a call failed (the first 200)
//
// <ms> is the wall clock (ms since the epoch): every network namespace shares it. The
// configuration keys are the usual --tomato-rpc.<key>=<value>. It stops at the end of its
// standard input (the test closes it) or on SIGTERM/SIGINT, exits 0.
#include "echoservice_stub.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDateTime>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QMutex>
#include <QtCore/QSocketNotifier>
#include <QtCore/QThread>
#include <QtCore/QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>
#include <unistd.h>

namespace {

void print(const QString &line)
{
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout);
}

qint64 now()
{
    return QDateTime::currentMSecsSinceEpoch();
}

std::atomic<bool> stopRequested{false};

void onSignal(int)
{
    stopRequested = true;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Calls Sample::EchoService::echo steadily through the registry and "
                                                    "reports every outcome (tests/integration/tst_partitions.cpp)."));
    const QCommandLineOption callersOption(QStringLiteral("callers"), QStringLiteral("Calling threads (default 3)."),
                                           QStringLiteral("n"), QStringLiteral("3"));
    const QCommandLineOption pauseOption(QStringLiteral("pause-ms"),
                                         QStringLiteral("Pause of each thread between calls (default 5)."),
                                         QStringLiteral("ms"), QStringLiteral("5"));
    const QCommandLineOption expectOption(QStringLiteral("expect"),
                                          QStringLiteral("Instances to wait for (at most 30 s) before calling (default 1)."),
                                          QStringLiteral("n"), QStringLiteral("1"));
    parser.addOption(callersOption);
    parser.addOption(pauseOption);
    parser.addOption(expectOption);
    const Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser);
    const int callers = qMax(1, parser.value(callersOption).toInt());
    const int pauseMs = qMax(0, parser.value(pauseOption).toInt());
    const int expect = qMax(1, parser.value(expectOption).toInt());

    std::unique_ptr<Tomato::Registry> registry;
    try {
        Tomato::RegistryFactory registries;
        Tomato::ZooKeeperRegistry::registerScheme(registries);
        registry = registries.create(config);
    } catch (const Tomato::RpcError &e) {
        std::fprintf(stderr, "tomato-partition-consumer: %s\n", qPrintable(e.message()));
        return 2;
    }
    if (!registry) {
        std::fprintf(stderr, "tomato-partition-consumer: name-service-uri is not set\n");
        return 2;
    }
    const QString service = Tomato::RpcClient::microServiceIdOf(Sample::EchoService::staticMetaObject);
    Tomato::RpcClient client(config);
    QObject::connect(&client, &Tomato::RpcClient::instancesChanged, &app,
                     [&](const QString &id, const QStringList &addresses) {
                         if (id == service)
                             print(QStringLiteral("INSTANCES %1 %2").arg(now()).arg(addresses.join(QLatin1Char(' '))));
                     });
    QObject::connect(registry.get(), &Tomato::Registry::connectedChanged, &app,
                     [](bool connected) { print(QStringLiteral("ZK %1 %2").arg(now()).arg(connected ? 1 : 0)); });
    client.setRegistry(registry.get());
    std::vector<std::unique_ptr<Sample::EchoServiceStub>> stubs;
    for (int i = 0; i < callers; ++i)
        stubs.push_back(client.stub<Sample::EchoService>());

    // Until the registry has named enough instances (the event loop turns meanwhile).
    const QDeadlineTimer known(30000);
    while (client.instances(service).size() < expect && !known.hasExpired() && !stopRequested) {
        QCoreApplication::processEvents(QEventLoop::AllEvents);
        QThread::msleep(10);
    }

    std::atomic<quint64> ok{0};
    std::atomic<quint64> failed{0};
    QMutex failuresMutex;
    QStringList failures; // printed by the main thread
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
        threads.emplace_back([&, echo = stubs[size_t(i)].get(), i] {
            quint64 n = 0;
            while (!stop.load()) {
                try {
                    echo->echo(QStringLiteral("caller %1 call %2").arg(i).arg(++n));
                    ++ok;
                } catch (const Tomato::RpcError &e) {
                    ++failed;
                    QMutexLocker lock(&failuresMutex);
                    failures << QStringLiteral("FAIL %1 %2").arg(now()).arg(e.toString().simplified());
                }
                if (pauseMs > 0 && !stop.load())
                    QThread::msleep(ulong(pauseMs));
            }
        });
    }
    print(QStringLiteral("READY %1").arg(client.instances(service).join(QLatin1Char(' '))));

    int failuresPrinted = 0;
    QTimer tick;
    QObject::connect(&tick, &QTimer::timeout, &app, [&] {
        QStringList fresh;
        {
            QMutexLocker lock(&failuresMutex);
            fresh.swap(failures);
        }
        for (const QString &line : std::as_const(fresh)) {
            if (failuresPrinted++ < 200)
                print(line);
        }
        QString line = QStringLiteral("TICK %1 ok=%2 failed=%3 zk=%4")
                           .arg(now())
                           .arg(ok.load())
                           .arg(failed.load())
                           .arg(registry->isConnected() ? 1 : 0);
        for (const Tomato::InvokerStats &s : client.invokers(service))
            line += QStringLiteral(" inv=%1|%2|%3|%4|%5|%6")
                        .arg(s.address, s.state)
                        .arg(s.connected ? 1 : 0)
                        .arg(s.calls)
                        .arg(s.failures)
                        .arg(s.startedAt.isValid() ? s.startedAt.toMSecsSinceEpoch() : 0);
        print(line);
    });
    tick.start(100);

    QHash<QString, QString> lastState;
    QTimer watch;
    QObject::connect(&watch, &QTimer::timeout, &app, [&] {
        QHash<QString, QString> state;
        for (const Tomato::InvokerStats &s : client.invokers(service))
            state.insert(s.address, s.state + (s.connected ? QStringLiteral(" 1") : QStringLiteral(" 0")));
        for (auto it = state.cbegin(); it != state.cend(); ++it) {
            if (lastState.value(it.key()) != it.value())
                print(QStringLiteral("STATE %1 %2 %3").arg(now()).arg(it.key(), it.value()));
        }
        for (auto it = lastState.cbegin(); it != lastState.cend(); ++it) {
            if (!state.contains(it.key()))
                print(QStringLiteral("STATE %1 %2 gone 0").arg(now()).arg(it.key()));
        }
        lastState = state;
        if (stopRequested)
            app.quit();
    });
    watch.start(10);

    // The end of standard input (the test closed it) stops us.
    QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
    QObject::connect(&input, &QSocketNotifier::activated, &app, [&] {
        char buffer[256];
        if (::read(STDIN_FILENO, buffer, sizeof buffer) <= 0) {
            input.setEnabled(false);
            app.quit();
        }
    });
    std::signal(SIGTERM, onSignal);
    std::signal(SIGINT, onSignal);

    app.exec();
    stop = true;
    for (auto &t : threads)
        t.join();
    print(QStringLiteral("STOPPED ok=%1 failed=%2").arg(ok.load()).arg(failed.load()));
    return 0;
}
