// SPDX-License-Identifier: Apache-2.0
// tomato-bench: Tomato RPC on the reference workloads (docs/PERFORMANCE.md).
//
//   tomato-bench server PORT [TRANSPORT]                    publish Bench::EchoService
//   tomato-bench client lat|tput|big|conns PORT [TRANSPORT] run one workload against it
//   tomato-bench client cluster ZKHOSTS                     W5, through a ZooKeeper registry
//
// The server publishes the echo service with PublishOptions::Dispatch::IoThread (its methods
// return at once and never wait: what that dispatch is for); TOMATO_BENCH_DISPATCH=pool
// publishes it on the business pool instead, the library's default (docs/PERFORMANCE.md shows
// both).
//
// TRANSPORT is tcp (the default; also from TOMATO_BENCH_TRANSPORT), tls or unix:
// tcp://127.0.0.1:PORT, tls://127.0.0.1:PORT (the server makes a throw-away certificate for
// 127.0.0.1 with the openssl program in /tmp/tomato-bench-PORT/, which the client then trusts
// and verifies), unix:///tmp/tomato-bench-PORT.sock. A tcp server may be given port 0 (any).
// Both sides also take the configuration's --tomato-rpc.<key>=<value> arguments and
// TOMATO_RPC_* variables (none are needed for W1-W4); a server given name-service-uri
// registers in that registry as micro-service tomato-bench (W5).
//
// Built on the public API as a user would use it: RpcServer::publish, generated stubs over
// direct connections, default configuration. The client prints one line
//   qps=<int> p50_us=<int> p99_us=<int> mbps=<float or 0>
// (plus optional "info: ..." lines); the server prints "READY <address>" once it accepts calls.
// W1 and W3 issue each call from the completion of the previous one (QFuture::then on the
// client's I/O thread), W2 keeps 4 connections x 16 calls in flight the same way, W4 opens
// 1,000 connections with one blocking call each. W5 (clusterworkload.h) keeps 64 calls in
// flight over the registry's instances, one of which is killed midway.
#include "benchservice.h"
#include "benchservice_stub.h"
#include "clusterworkload.h"
#include "workloads.h"

#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>

#include <tomato/core/version.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QProcess>
#include <QtCore/QSemaphore>
#include <QtCore/QThread>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>

using workloads::Clock;

namespace {

class EchoImpl : public Bench::EchoService
{
    Q_OBJECT
public:
    QString echo(const QString &message) override { return message; }
    QByteArray echoBytes(const QByteArray &data) override { return data; }
};

[[noreturn]] void failed(const Tomato::RpcError &e)
{
    std::fprintf(stderr, "call failed: %s\n", qPrintable(e.toString()));
    std::exit(1);
}

template<typename T>
T resultOf(QFuture<T> &future)
{
    try {
        return future.result();
    } catch (const Tomato::RpcError &e) {
        failed(e);
    }
}

// Where the benchmark talks, and the settings that go with it.
struct Target
{
    QString transport;
    quint16 port = 0;

    Tomato::Endpoint address() const
    {
        if (transport == QLatin1String("unix"))
            return Tomato::Endpoint::unixSocket(QStringLiteral("/tmp/tomato-bench-%1.sock").arg(port));
        return Tomato::Endpoint(transport, QStringLiteral("127.0.0.1"), port);
    }
    QString certificateDir() const { return QStringLiteral("/tmp/tomato-bench-%1").arg(port); }

    Tomato::RpcConfig config(bool server) const
    {
        Tomato::RpcConfig c;
        if (transport == QLatin1String("tls")) {
            c.setTlsCa(certificateDir() + QLatin1String("/cert.pem"));
            if (server) {
                c.setTlsCert(certificateDir() + QLatin1String("/cert.pem"));
                c.setTlsKey(certificateDir() + QLatin1String("/key.pem"));
            }
        }
        if (server)
            c.setListen({address().toString()});
        return c;
    }

    // A self-signed certificate for 127.0.0.1, for the TLS runs.
    bool makeCertificate() const
    {
        QDir().mkpath(certificateDir());
        QProcess openssl;
        openssl.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        openssl.start(QStringLiteral("openssl"),
                      {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("ec"),
                       QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                       QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"),
                       QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1"),
                       QStringLiteral("-keyout"), certificateDir() + QLatin1String("/key.pem"),
                       QStringLiteral("-out"), certificateDir() + QLatin1String("/cert.pem")});
        openssl.closeWriteChannel();
        return openssl.waitForFinished(30000) && openssl.exitCode() == 0;
    }
};

int runServer(QCoreApplication &app, const Target &target, const Tomato::RpcConfig &config)
{
    if (target.transport == QLatin1String("tls") && !target.makeCertificate()) {
        std::fprintf(stderr, "cannot make a certificate with openssl\n");
        return 1;
    }
    std::unique_ptr<Tomato::Registry> registry; // none unless name-service-uri is set (W5)
    if (!cluster::makeRegistry(config, &registry))
        return 2;
    Tomato::RpcServer server(config);
    server.setRegistry(registry.get());
    EchoImpl impl;
    const QByteArray dispatch = qgetenv("TOMATO_BENCH_DISPATCH");
    if (!dispatch.isEmpty() && dispatch != "io" && dispatch != "pool") {
        std::fprintf(stderr, "TOMATO_BENCH_DISPATCH must be io or pool, not %s\n", dispatch.constData());
        return 2;
    }
    server.publish<Bench::EchoService>(&impl, Tomato::PublishOptions().setDispatch(
                                                  dispatch == "pool" ? Tomato::PublishOptions::Dispatch::BusinessPool
                                                                     : Tomato::PublishOptions::Dispatch::IoThread));
    if (!server.start()) {
        std::fprintf(stderr, "%s\n", qPrintable(server.errorString()));
        return 1;
    }
    std::printf("READY %s\n", qPrintable(server.addresses().value(0).toString()));
    std::fflush(stdout);
    return app.exec();
}

// One call at a time; each call is issued from the completion of the previous one.
template<typename T, typename Call>
void sequential(const T &payload, int warmup, int calls, double bytesPerCall, Call call)
{
    workloads::Recorder rec;
    QSemaphore finished;
    int done = 0;
    Clock::time_point t;
    std::function<void()> next = [&] {
        if (done == warmup)
            rec.begin();
        t = Clock::now();
        // One continuation that takes the future itself: it sees failures too, without a
        // second (onFailed) continuation and future per call.
        call(payload).then(QtFuture::Launch::Sync, [&](QFuture<T> completed) {
                const auto now = Clock::now();
                const T reply = resultOf(completed);
                if (done >= warmup)
                    rec.add(now - t);
                if (reply.size() != payload.size()) {
                    std::fprintf(stderr, "bad echo\n");
                    std::exit(1);
                }
                if (++done == warmup + calls) {
                    rec.end();
                    finished.release();
                } else {
                    next();
                }
            });
    };
    next();
    finished.acquire();
    rec.print(bytesPerCall);
}

void throughput(Tomato::RpcClient &client, const Target &target)
{
    const QString payload = QString::fromStdString(workloads::makePayload(workloads::kSmallBytes));
    struct Lane
    {
        std::unique_ptr<Bench::EchoServiceStub> stub;
        workloads::Recorder rec;
        std::function<void()> issue;
    };
    std::vector<Lane> lanes(workloads::kTputConns);
    std::atomic<bool> measuring{false};
    std::atomic<bool> stopping{false};
    std::atomic<int> inFlight{0};
    for (int i = 0; i < workloads::kTputConns; ++i) {
        Lane &lane = lanes[size_t(i)];
        lane.stub = client.createDirectStub<Bench::EchoService>(target.address(), Tomato::StubOptions().setConnection(i));
        lane.issue = [&] {
            inFlight.fetch_add(1);
            const auto t = Clock::now();
            lane.stub->echoAsync(payload).then(QtFuture::Launch::Sync, [&, t](QFuture<QString> finished) {
                    resultOf(finished);
                    if (measuring.load(std::memory_order_relaxed))
                        lane.rec.add(Clock::now() - t);
                    if (!stopping.load(std::memory_order_relaxed))
                        lane.issue();
                    inFlight.fetch_sub(1);
                });
        };
    }
    for (Lane &lane : lanes) {
        for (int k = 0; k < workloads::kTputDepth; ++k)
            lane.issue();
    }
    QThread::sleep(std::chrono::duration_cast<std::chrono::seconds>(workloads::kTputWarmup).count());
    workloads::Recorder total;
    total.begin();
    measuring.store(true);
    QThread::sleep(std::chrono::duration_cast<std::chrono::seconds>(workloads::kTputMeasure).count());
    measuring.store(false);
    total.end();
    stopping.store(true);
    while (inFlight.load() > 0)
        QThread::msleep(1);
    for (const Lane &lane : lanes)
        total.merge(lane.rec);
    total.print(0);
}

void idleConnections(Tomato::RpcClient &client, const Target &target)
{
    const QString payload = QString::fromStdString(workloads::makePayload(workloads::kSmallBytes));
    std::vector<std::unique_ptr<Bench::EchoServiceStub>> stubs;
    const auto t = Clock::now();
    for (int i = 0; i < workloads::kIdleConns; ++i) {
        stubs.push_back(client.createDirectStub<Bench::EchoService>(target.address(), Tomato::StubOptions().setConnection(i)));
        try {
            if (stubs.back()->echo(payload).size() != payload.size())
                std::exit(1);
        } catch (const Tomato::RpcError &e) {
            failed(e);
        }
    }
    const auto setup = Clock::now() - t;
    QThread::sleep(std::chrono::duration_cast<std::chrono::seconds>(workloads::kIdleHold).count());
    workloads::printConns(setup, int(stubs.size()));
}

int runClient(const char *workload, const Target &target, const Tomato::RpcConfig &config)
{
    Tomato::RpcClient client(config);
    if (std::strcmp(workload, "lat") == 0) {
        auto stub = client.createDirectStub<Bench::EchoService>(target.address());
        const QString payload = QString::fromStdString(workloads::makePayload(workloads::kSmallBytes));
        sequential(payload, workloads::kLatWarmup, workloads::kLatCalls, 0,
                   [&](const QString &p) { return stub->echoAsync(p); });
    } else if (std::strcmp(workload, "big") == 0) {
        auto stub = client.createDirectStub<Bench::EchoService>(target.address());
        const QByteArray payload = QByteArray::fromStdString(workloads::makePayload(workloads::kBigBytes));
        sequential(payload, workloads::kBigWarmup, workloads::kBigCalls, workloads::kBigBytes,
                   [&](const QByteArray &p) { return stub->echoBytesAsync(p); });
    } else if (std::strcmp(workload, "tput") == 0) {
        throughput(client, target);
    } else if (std::strcmp(workload, "conns") == 0) {
        idleConnections(client, target);
    } else {
        return 2;
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    app.setApplicationVersion(QStringLiteral(TOMATO_VERSION_STRING));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Tomato RPC on the reference workloads of ../shared/BENCHMARKS.md (docs/PERFORMANCE.md).\n"
        "  tomato-bench server PORT [tcp|tls|unix]\n"
        "  tomato-bench client lat|tput|big|conns PORT [tcp|tls|unix]\n"
        "  tomato-bench client cluster ZKHOSTS      (W5: tools/bench/w5-cluster.sh runs it)\n"
        "The transport defaults to TOMATO_BENCH_TRANSPORT, else tcp; a tcp server takes port 0\n"
        "(any). The --tomato-rpc.* options (and TOMATO_RPC_* variables) change the\n"
        "configuration, which is the default one otherwise; with name-service-uri a server\n"
        "registers there as tomato-bench."));
    parser.addHelpOption();
    parser.addVersionOption();
    Tomato::RpcConfig::addOptionsTo(parser);
    parser.addPositionalArgument(QStringLiteral("mode"), QStringLiteral("server or client"));
    const auto fail = [](const QString &why) {
        std::fprintf(stderr, "tomato-bench: %s (see --help)\n", qPrintable(why));
        return 2;
    };
    if (!parser.parse(app.arguments()))
        return fail(parser.errorText());
    if (parser.isSet(QStringLiteral("help")) || parser.isSet(QStringLiteral("help-all"))
        || parser.isSet(QStringLiteral("version")))
        parser.process(app); // prints help or the version and exits 0
    const QStringList args = parser.positionalArguments();
    const bool server = args.value(0) == QLatin1String("server");
    const bool client = args.value(0) == QLatin1String("client");
    if (!server && !client)
        return fail(QStringLiteral("the first argument is server or client"));
    // The configuration: ours (below) over the defaults, then TOMATO_RPC_* and --tomato-rpc.*.
    Tomato::RpcConfig config;
    const auto configure = [&](const Tomato::RpcConfig &defaults) {
        try {
            config = Tomato::RpcConfig::load(defaults, app.arguments());
            return true;
        } catch (const Tomato::ConfigError &e) {
            fail(QString::fromUtf8(e.what()));
            return false;
        }
    };
    if (client && args.value(1) == QLatin1String("cluster")) {
        if (args.size() != 3)
            return fail(QStringLiteral("wrong number of arguments"));
        return configure(cluster::clientDefaults(args.at(2))) ? cluster::run(config) : 2;
    }
    const qsizetype portAt = server ? 1 : 2;
    if (args.size() < portAt + 1 || args.size() > portAt + 2)
        return fail(QStringLiteral("wrong number of arguments"));
    bool ok = false;
    Target target;
    target.port = quint16(args.at(portAt).toUShort(&ok));
    if (!ok || (target.port == 0 && !server))
        return fail(QStringLiteral("'%1' is not a port").arg(args.at(portAt)));
    target.transport = args.value(portAt + 1, qEnvironmentVariable("TOMATO_BENCH_TRANSPORT", QStringLiteral("tcp")));
    if (!QStringList{QStringLiteral("tcp"), QStringLiteral("tls"), QStringLiteral("unix")}.contains(target.transport))
        return fail(QStringLiteral("'%1' is not a transport (tcp, tls, unix)").arg(target.transport));
    if (target.port == 0 && target.transport != QLatin1String("tcp"))
        return fail(QStringLiteral("port 0 (any) needs the tcp transport"));
    if (server) {
        Tomato::RpcConfig defaults = target.config(true);
        defaults.setMicroServiceId(Tomato::RpcClient::microServiceIdOf(Bench::EchoService::staticMetaObject));
        return configure(defaults) ? runServer(app, target, config) : 2;
    }
    if (!configure(target.config(false)))
        return 2;
    const QByteArray workload = args.at(1).toLatin1();
    const int rc = runClient(workload.constData(), target, config);
    return rc == 2 ? fail(QStringLiteral("'%1' is not a workload (lat, tput, big, conns, cluster)").arg(args.at(1))) : rc;
}

#include "main.moc"
