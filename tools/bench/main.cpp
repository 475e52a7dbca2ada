// tomato-bench: Tomato RPC on the reference workloads (docs/PERFORMANCE.md).
//
//   tomato-bench server PORT                    publish Bench::EchoService on 127.0.0.1:PORT
//   tomato-bench client lat|tput|big|conns PORT run one workload against it
//
// Built on the public API as a user would use it: RpcServer::publish, generated stubs over
// direct connections, default configuration. The client prints one line
//   qps=<int> p50_us=<int> p99_us=<int> mbps=<float or 0>
// (plus optional "info: ..." lines); the server prints READY once it accepts calls.
// W1 and W3 issue each call from the completion of the previous one (QFuture::then on the
// client's I/O thread), W2 keeps 4 connections x 16 calls in flight the same way, W4 opens
// 1,000 connections with one blocking call each.
#include "benchservice.h"
#include "benchservice_stub.h"
#include "workloads.h"

#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QCoreApplication>
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

int runServer(QCoreApplication &app, quint16 port)
{
    Tomato::RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    config.setPort(port);
    Tomato::RpcServer server(config);
    EchoImpl impl;
    server.publish<Bench::EchoService>(&impl);
    if (!server.start()) {
        std::fprintf(stderr, "%s\n", qPrintable(server.errorString()));
        return 1;
    }
    std::printf("READY\n");
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

void throughput(Tomato::RpcClient &client, quint16 port)
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
        Tomato::StubOptions options;
        options.connection = i;
        Lane &lane = lanes[size_t(i)];
        lane.stub = client.createDirectStub<Bench::EchoService>(QStringLiteral("127.0.0.1"), port, options);
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

void idleConnections(Tomato::RpcClient &client, quint16 port)
{
    const QString payload = QString::fromStdString(workloads::makePayload(workloads::kSmallBytes));
    std::vector<std::unique_ptr<Bench::EchoServiceStub>> stubs;
    const auto t = Clock::now();
    for (int i = 0; i < workloads::kIdleConns; ++i) {
        Tomato::StubOptions options;
        options.connection = i;
        stubs.push_back(client.createDirectStub<Bench::EchoService>(QStringLiteral("127.0.0.1"), port, options));
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

int runClient(const char *workload, quint16 port)
{
    Tomato::RpcClient client;
    if (std::strcmp(workload, "lat") == 0) {
        auto stub = client.createDirectStub<Bench::EchoService>(QStringLiteral("127.0.0.1"), port);
        const QString payload = QString::fromStdString(workloads::makePayload(workloads::kSmallBytes));
        sequential(payload, workloads::kLatWarmup, workloads::kLatCalls, 0,
                   [&](const QString &p) { return stub->echoAsync(p); });
    } else if (std::strcmp(workload, "big") == 0) {
        auto stub = client.createDirectStub<Bench::EchoService>(QStringLiteral("127.0.0.1"), port);
        const QByteArray payload = QByteArray::fromStdString(workloads::makePayload(workloads::kBigBytes));
        sequential(payload, workloads::kBigWarmup, workloads::kBigCalls, workloads::kBigBytes,
                   [&](const QByteArray &p) { return stub->echoBytesAsync(p); });
    } else if (std::strcmp(workload, "tput") == 0) {
        throughput(client, port);
    } else if (std::strcmp(workload, "conns") == 0) {
        idleConnections(client, port);
    } else {
        return 2;
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc == 3 && std::strcmp(argv[1], "server") == 0)
        return runServer(app, quint16(std::atoi(argv[2])));
    if (argc == 4 && std::strcmp(argv[1], "client") == 0) {
        const int rc = runClient(argv[2], quint16(std::atoi(argv[3])));
        if (rc != 2)
            return rc;
    }
    std::fprintf(stderr, "usage: %s server PORT | client lat|tput|big|conns PORT\n", argv[0]);
    return 2;
}

#include "main.moc"
