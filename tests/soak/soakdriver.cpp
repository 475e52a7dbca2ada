// SPDX-License-Identifier: Apache-2.0
// tomato-soak-driver: the mixed load of `./run soak` (tests/soak/soak.sh, docs/RELIABILITY.md).
// Starts up to --rate calls a second (default 2000), at most --concurrency (32) in flight, on
// demo-rpc-service through the registry, of five kinds:
//   small     echo() of a short text (idempotent)
//   large     describe() of a request with a 256 KiB text and 16,384 numbers
//   timeout   echo() with a 1 ms timeout: most fail DeadlineExceeded or Timeout (or with an
//             error failover had no time left to retry)
//   cancel    echo() whose future is cancelled as soon as it is sent
//   error     divide(1, 0): the method throws (ApplicationException)
// and, every few seconds, a client of its own that connects, makes some calls and goes (a
// fresh RpcClient: new connections, a new subscription). Every 10 s it prints one line:
//   soak t=<s> ok=<n> expected=<n> unexpected=<n> inflight=<n> clients=<n>
// (cumulative; `expected` are the failures the kind asks for, `unexpected` any other, with the
// first few of them printed on stderr). Runs until killed.
#include "demoservice_stub.h"
#include "echoservice_stub.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QTimer>

#include <cstdio>
#include <memory>

using namespace std::chrono_literals;

namespace {

struct Counts
{
    quint64 ok = 0, expected = 0, unexpected = 0, clients = 0;
    int inflight = 0;
};

class Driver : public QObject
{
public:
    Driver(Tomato::RpcClient &client, const QString &service, int concurrency, int rate)
        : m_client(client), m_service(service), m_concurrency(concurrency), m_perTick(qMax(1, rate / 100))
    {
        m_echo = std::make_unique<Sample::EchoServiceStub>(client.clusterChannel(service));
        m_demo = std::make_unique<Sample::DemoServiceStub>(client.clusterChannel(service));
        m_large.text = QString(256 * 1024, QLatin1Char('t'));
        m_large.numbers.resize(16384);
        for (int i = 0; i < m_large.numbers.size(); ++i)
            m_large.numbers[i] = i;
    }

    void start()
    {
        m_clock.start();
        // Paced: every 10 ms up to rate/100 new calls, while fewer than `concurrency` are in flight.
        auto *pace = new QTimer(this);
        connect(pace, &QTimer::timeout, this, [this] {
            for (int i = 0; i < m_perTick && m_counts.inflight < m_concurrency; ++i)
                next();
        });
        pace->start(10);
        auto *report = new QTimer(this);
        connect(report, &QTimer::timeout, this, &Driver::report);
        report->start(10000);
        auto *churn = new QTimer(this);
        connect(churn, &QTimer::timeout, this, &Driver::visitingClient);
        churn->start(3000);
    }

private:
    enum Kind { Small, Large, Timeout, Cancel, Error };

    // One call of the next kind.
    void next()
    {
        const Kind kind = pick();
        ++m_counts.inflight;
        switch (kind) {
        case Small:
            return watch(m_echo->echoAsync(QStringLiteral("soak %1").arg(++m_serial)), kind);
        case Large:
            return watch(m_demo->describeAsync(m_large), kind);
        case Timeout:
            return watch(m_echo->echoAsync(QStringLiteral("hurry"), Tomato::CallOptions().setTimeout(1ms)), kind);
        case Cancel: {
            QFuture<QString> f = m_echo->echoAsync(QStringLiteral("never mind"));
            f.cancel();
            return watch(f, kind);
        }
        case Error:
            return watch(m_demo->divideAsync(1, 0), kind);
        }
    }

    Kind pick()
    {
        // Of every 20 calls: 12 small, 2 of each other kind.
        const int slot = int(m_serial++ % 20);
        if (slot < 12)
            return Small;
        return Kind(1 + (slot - 12) / 2);
    }

    template<typename T>
    void watch(const QFuture<T> &future, Kind kind)
    {
        Tomato::whenFinished(future, this, [this, kind](QFuture<T> f) {
            --m_counts.inflight;
            settle(kind, f);
        });
    }

    template<typename T>
    void settle(Kind kind, QFuture<T> &f)
    {
        try {
            Tomato::waitFor(f);
            // A 1 ms call may make it; a cancelled one may have been answered already.
            if (kind == Error)
                return unexpected(kind, QStringLiteral("divide(1, 0) succeeded"));
            ++m_counts.ok;
        } catch (const Tomato::RpcError &e) {
            // A 1 ms call has no time left to retry: an attempt's error that failover would
            // have retried (the call did not run: ShuttingDown at a restart, ConnectFailed) is
            // the call's, as docs/CLUSTER.md says.
            const bool wanted = (kind == Timeout && (e.code() == Tomato::RpcError::Timeout
                                                     || e.code() == Tomato::RpcError::DeadlineExceeded
                                                     || Tomato::RpcError::isRetryable(e.code())))
                || (kind == Cancel && e.code() == Tomato::RpcError::Cancelled)
                || (kind == Error && e.code() == Tomato::RpcError::ApplicationException);
            if (wanted)
                ++m_counts.expected;
            else
                unexpected(kind, e.toString());
        }
    }

    void unexpected(Kind kind, const QString &what)
    {
        ++m_counts.unexpected;
        if (m_counts.unexpected <= 20)
            std::fprintf(stderr, "soak: unexpected (kind %d) at t=%llds: %s\n", int(kind),
                         static_cast<long long>(m_clock.elapsed() / 1000), qPrintable(what));
    }

    // A client that comes, calls a little, and goes: its own connections and subscription.
    void visitingClient()
    {
        ++m_counts.clients;
        auto visitor = std::make_shared<Tomato::RpcClient>(m_client.config());
        visitor->setRegistry(m_client.registry());
        auto echo = std::make_shared<Sample::EchoServiceStub>(visitor->clusterChannel(m_service));
        auto remaining = std::make_shared<int>(20);
        Driver *self = this;
        for (int i = 0; i < 20; ++i) {
            ++m_counts.inflight;
            Tomato::whenFinished(echo->echoAsync(QStringLiteral("visitor %1").arg(i)), this,
                                 [self, visitor, echo, remaining](QFuture<QString> f) mutable {
                                     --self->m_counts.inflight;
                                     self->settle(Small, f);
                                     if (--*remaining == 0) {
                                         // Gone once the last call is settled, off this stack.
                                         QTimer::singleShot(0, self, [visitor, echo]() mutable {
                                             echo.reset();
                                             visitor.reset();
                                         });
                                     }
                                 });
        }
    }

    void report()
    {
        std::printf("soak t=%lld ok=%llu expected=%llu unexpected=%llu inflight=%d clients=%llu\n",
                    static_cast<long long>(m_clock.elapsed() / 1000), static_cast<unsigned long long>(m_counts.ok),
                    static_cast<unsigned long long>(m_counts.expected),
                    static_cast<unsigned long long>(m_counts.unexpected), m_counts.inflight,
                    static_cast<unsigned long long>(m_counts.clients));
        std::fflush(stdout);
    }

    Tomato::RpcClient &m_client;
    QString m_service;
    int m_concurrency;
    int m_perTick;
    std::unique_ptr<Sample::EchoServiceStub> m_echo;
    std::unique_ptr<Sample::DemoServiceStub> m_demo;
    Sample::DemoRequest m_large;
    quint64 m_serial = 0;
    Counts m_counts;
    QElapsedTimer m_clock;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("The mixed load of ./run soak (tests/soak/soak.sh)."));
    const QCommandLineOption concurrencyOption(QStringLiteral("concurrency"),
                                               QStringLiteral("Calls kept in flight (default 32)."), QStringLiteral("n"),
                                               QStringLiteral("32"));
    parser.addOption(concurrencyOption);
    const QCommandLineOption rateOption(QStringLiteral("rate"), QStringLiteral("Calls started per second at most (default 2000)."),
                                        QStringLiteral("n"), QStringLiteral("2000"));
    parser.addOption(rateOption);
    const Tomato::RpcConfig config = Tomato::RpcConfig::fromCommandLine(app, parser);
    if (config.nameServiceUri().isEmpty()) {
        std::fprintf(stderr, "tomato-soak-driver: needs --tomato-rpc.name-service-uri\n");
        return 2;
    }
    Tomato::RegistryFactory registries;
    Tomato::ZooKeeperRegistry::registerScheme(registries);
    std::unique_ptr<Tomato::Registry> registry = registries.create(config);
    Tomato::RpcClient client(config);
    client.setRegistry(registry.get());
    const QString service = QStringLiteral("demo-rpc-service");
    Driver driver(client, service, qMax(1, parser.value(concurrencyOption).toInt()),
                  qMax(1, parser.value(rateOption).toInt()));
    // Starts once the registry has named an instance.
    QObject::connect(&client, &Tomato::RpcClient::instancesChanged, &driver,
                     [&driver, started = false](const QString &, const QStringList &addresses) mutable {
                         if (!started && !addresses.isEmpty()) {
                             started = true;
                             driver.start();
                         }
                     });
    return app.exec(); // until SIGTERM ends it
}
