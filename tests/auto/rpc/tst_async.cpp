// SPDX-License-Identifier: Apache-2.0
// Asynchronous service methods (docs/ASYNC.md): methods returning QFuture<T> answered when the
// future finishes, against real servers over real sockets. A QPromise finished by a timer, a
// stub's own future (relay), futures combined (fan-out), QtConcurrent on the pool; failures;
// 1,000 waiting calls on a server with 2 business threads; cancel and deadline reaching the
// pending future.
#include "asyncservice.h"
#include "rawclient.h"
#include "rpcerrorof.h"

#include "asyncservice_stub.h"

#include <tomato/client/dynamicstub.h>
#include <tomato/core/tsan_p.h>
#include <tomato/client/rpcclient.h>
#include <tomato/server/rpcserver.h>

#include <QtConcurrent/QtConcurrent>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPromise>
#include <QtCore/QScopeGuard>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <atomic>
#include <stdexcept>

using namespace Tomato;
using namespace std::chrono_literals;

namespace {

// Timers and cancel watchers on a thread of their own: the business threads only start them.
class AsyncServiceImpl : public Test::AsyncService
{
public:
    explicit AsyncServiceImpl(Test::AsyncServiceStub *downstream = nullptr) : m_downstream(downstream)
    {
        m_thread.setObjectName(QStringLiteral("async-impl-timers"));
        m_host.moveToThread(&m_thread);
        m_thread.start();
    }
    ~AsyncServiceImpl() override
    {
        m_thread.quit();
        m_thread.wait();
    }

    QFuture<int> later(int value, int ms) override
    {
        auto promise = std::make_shared<QPromise<int>>();
        promise->start();
        enter();
        tomatoPost(&m_host, [this, promise, value, ms] {
            QTimer::singleShot(ms, &m_host, [this, promise, value] {
                promise->addResult(value);
                promise->finish();
                leave();
            });
        });
        return promise->future();
    }
    QFuture<qint64> sumTo(int n) override
    {
        return QtConcurrent::run([n] {
            qint64 sum = 0;
            for (int i = 1; i <= n; ++i)
                sum += i;
            return sum;
        });
    }
    QFuture<int> relay(int value, int ms) override { return m_downstream->laterAsync(value, ms); }
    QFuture<int> fanOut(const QList<int> &values, int ms) override
    {
        QList<QFuture<int>> parts;
        for (int v : values)
            parts.append(m_downstream->laterAsync(v, ms));
        return QtFuture::whenAll(parts.begin(), parts.end()).then([](const QList<QFuture<int>> &done) {
            int sum = 0;
            for (const QFuture<int> &f : done)
                sum += waitFor(f); // a part that failed fails the whole
            return sum;
        });
    }
    QFuture<QString> fail(const QString &message, int ms) override
    {
        auto promise = std::make_shared<QPromise<QString>>();
        promise->start();
        tomatoPost(&m_host, [this, promise, message, ms] {
            QTimer::singleShot(ms, &m_host, [promise, message] {
                promise->setException(std::make_exception_ptr(std::runtime_error(message.toStdString())));
                promise->finish();
            });
        });
        return promise->future();
    }
    QFuture<void> pause(int ms) override
    {
        auto promise = std::make_shared<QPromise<void>>();
        promise->start();
        tomatoPost(&m_host, [this, promise, ms] {
            QTimer::singleShot(ms, &m_host, [promise] { promise->finish(); });
        });
        return promise->future();
    }
    QFuture<Test::Item> item(const QString &name, int count) override
    {
        return QtFuture::makeReadyFuture(Test::Item{name, count});
    }
    QFuture<QList<int>> squares(const QList<int> &values) override
    {
        return QtConcurrent::mapped(values, [](int v) { return v * v; }).then([](QFuture<int> f) { return f.results(); });
    }
    QFuture<int> never() override
    {
        auto promise = std::make_shared<QPromise<int>>();
        promise->start();
        const QFuture<int> future = promise->future();
        ++neverStarted;
        tomatoPost(&m_host, [this, promise, future] {
            auto *watcher = new QFutureWatcher<int>(&m_host);
            QObject::connect(watcher, &QFutureWatcherBase::canceled, &m_host, [this, promise, watcher] {
                ++neverCancelled;
                promise->finish();
                watcher->deleteLater();
            });
            watcher->setFuture(future);
        });
        return future;
    }

    std::atomic<int> pending{0}, maxPending{0}, neverStarted{0}, neverCancelled{0};

private:
    void enter()
    {
        const int now = ++pending;
        int seen = maxPending.load();
        while (now > seen && !maxPending.compare_exchange_weak(seen, now)) {
        }
    }
    void leave() { --pending; }

    Test::AsyncServiceStub *m_downstream;
    QThread m_thread;
    QObject m_host;
};

} // namespace

class tst_Async : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void everyKindOfFutureIsAnsweredWithItsValue();
    void dynamicCallersSeeTheFuturesValue();
    void aFailedFutureIsAnApplicationException();
    void aFailureDownstreamFailsTheFanOut();
    void aThousandWaitingCallsHoldNoBusinessThread();
    void cancellingTheCallCancelsThePendingFuture();
    void theDeadlineCancelsThePendingFuture();

private:
    Endpoint address(const RpcServer &server) const
    {
        return Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), server.port());
    }

    std::unique_ptr<RpcClient> m_client;      // the test's, and the upstream server's downstream client
    std::unique_ptr<AsyncServiceImpl> m_downImpl, m_upImpl;
    std::unique_ptr<RpcServer> m_down, m_up; // m_up calls m_down
    std::unique_ptr<Test::AsyncServiceStub> m_downStub, m_stub;
};

void tst_Async::initTestCase()
{
    qRegisterMetaType<Test::Item>(); // travels inside QFuture<Test::Item> only (docs/ASYNC.md)
    m_client = std::make_unique<RpcClient>();
    RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    m_downImpl = std::make_unique<AsyncServiceImpl>();
    m_down = std::make_unique<RpcServer>(config);
    m_down->publish<Test::AsyncService>(m_downImpl.get());
    QVERIFY2(m_down->start(), qPrintable(m_down->errorString()));
    m_downStub = m_client->createDirectStub<Test::AsyncService>(address(*m_down));

    config.setBusinessThreads(2); // the point: waiting calls hold none of them
    m_upImpl = std::make_unique<AsyncServiceImpl>(m_downStub.get());
    m_up = std::make_unique<RpcServer>(config);
    m_up->publish<Test::AsyncService>(m_upImpl.get());
    QVERIFY2(m_up->start(), qPrintable(m_up->errorString()));
    m_stub = m_client->createDirectStub<Test::AsyncService>(address(*m_up));
}

void tst_Async::cleanupTestCase()
{
    m_stub.reset();
    m_downStub.reset();
    m_client.reset();
    m_up.reset();
    m_down.reset();
}

void tst_Async::everyKindOfFutureIsAnsweredWithItsValue()
{
    QCOMPARE(waitFor(m_stub->later(7, 10)), 7);             // QPromise + timer
    QCOMPARE(waitFor(m_stub->sumTo(1000)), qint64(500500)); // QtConcurrent::run
    QCOMPARE(waitFor(m_stub->relay(5, 10)), 5);             // a stub's future, returned
    QCOMPARE(waitFor(m_stub->fanOut({1, 2, 3, 4}, 10)), 10); // futures combined
    QCOMPARE(waitFor(m_stub->squares({1, 2, 3})), (QList<int>{1, 4, 9})); // QtConcurrent::mapped
    waitFor(m_stub->pause(10));                              // QFuture<void>
    const Test::Item item = waitFor(m_stub->item(QStringLiteral("tomato"), 3)); // ready at once
    QCOMPARE(item.name, QStringLiteral("tomato"));
    QCOMPARE(item.count, 3);
    // The ...Async form takes call options like any other.
    QCOMPARE(waitFor(m_stub->laterAsync(9, 1, CallOptions().setTimeout(5s))), 9);
}

void tst_Async::dynamicCallersSeeTheFuturesValue()
{
    DynamicStub dynamic(m_client->directChannel(address(*m_up)), QStringLiteral("Test::AsyncService"));
    QCOMPARE(waitFor(dynamic.call(QStringLiteral("later"), {11, 1})).toInt(), 11);
    QCOMPARE(waitFor(dynamic.callJson(QStringLiteral("item"), QJsonArray{QStringLiteral("x"), 2})),
             QJsonValue(QJsonObject{{QStringLiteral("name"), QStringLiteral("x")}, {QStringLiteral("count"), 2}}));
    QCOMPARE(waitFor(dynamic.callJson(QStringLiteral("pause"), QJsonArray{1})), QJsonValue(QJsonValue::Undefined));
}

void tst_Async::aFailedFutureIsAnApplicationException()
{
    const RpcError e = errorOf([&] { waitFor(m_stub->fail(QStringLiteral("no tomatoes"), 5)); });
    QCOMPARE(e.code(), RpcError::ApplicationException);
    QCOMPARE(e.message(), QStringLiteral("no tomatoes"));
    QCOMPARE(e.remoteType(), QStringLiteral("std::runtime_error"));
}

void tst_Async::aFailureDownstreamFailsTheFanOut()
{
    // The downstream server is gone for a moment: its stub's futures fail with a client-side
    // code, which the upstream answers as an ApplicationException naming Tomato::RpcError.
    const quint16 port = m_down->port();
    m_down->stop();
    const auto startDown = [&] {
        RpcConfig config;
        config.setHost(QStringLiteral("127.0.0.1"));
        config.setPort(port);
        m_down = std::make_unique<RpcServer>(config);
        m_down->publish<Test::AsyncService>(m_downImpl.get());
        return m_down->start();
    };
    // Restarted whatever the checks below find: every later case needs it.
    auto restart = qScopeGuard([&] { startDown(); });
    // Until the client has read the stopped server's goodbye (Error 204), a call may still go
    // out on the old connection and fail ShuttingDown, a server-side code the upstream passes
    // on as it is. Once calls fail as a gone server's do (ConnectFailed), the case is certain.
    QTRY_COMPARE(codeOf([&] { waitFor(m_downStub->later(1, 1)); }), RpcError::ConnectFailed);
    const RpcError e = errorOf([&] { waitFor(m_stub->fanOut({1, 2}, 1)); });
    QCOMPARE(e.code(), RpcError::ApplicationException);
    QCOMPARE(e.remoteType(), QStringLiteral("Tomato::RpcError"));
    restart.dismiss();
    QVERIFY2(startDown(), qPrintable(m_down->errorString()));
    QTRY_COMPARE_WITH_TIMEOUT(codeOf([&] { waitFor(m_stub->relay(1, 1)); }), RpcError::Ok, 10000);
}

void tst_Async::aThousandWaitingCallsHoldNoBusinessThread()
{
    // Each call waits 300 ms downstream. Were a business thread held per call, the upstream
    // (2 threads) could have at most 2 calls waiting downstream at once.
    m_downImpl->maxPending = 0;
    QList<QFuture<int>> calls;
    for (int i = 0; i < 1000; ++i)
        calls.append(m_stub->relayAsync(i, 300, CallOptions().setTimeout(60s)));
    for (int i = 0; i < 1000; ++i)
        QCOMPARE(waitFor(calls.at(i)), i);
    qInfo("%d calls waited downstream at once", m_downImpl->maxPending.load());
    QVERIFY2(m_downImpl->maxPending.load() >= 100,
             qPrintable(QStringLiteral("at most %1 calls waited downstream at once").arg(m_downImpl->maxPending.load())));
}

void tst_Async::cancellingTheCallCancelsThePendingFuture()
{
    const int started = m_upImpl->neverStarted, cancelled = m_upImpl->neverCancelled;
    const quint64 dropped = m_up->stats().callsCancelled();
    QFuture<int> call = m_stub->neverAsync(CallOptions().setTimeout(60s));
    QTRY_COMPARE(m_upImpl->neverStarted.load(), started + 1);
    call.cancel();
    QTRY_COMPARE(m_upImpl->neverCancelled.load(), cancelled + 1);
    QTRY_COMPARE(m_up->stats().callsCancelled(), dropped + 1);
}

void tst_Async::theDeadlineCancelsThePendingFuture()
{
    // A raw peer, which never cancels: only the server's deadline can end the call. JSON body
    // "[]": never() takes nothing.
    const int cancelled = m_upImpl->neverCancelled;
    const quint64 expired = m_up->stats().callsExpired();
    RawClient raw;
    QVERIFY(raw.connectTo(address(*m_up)));
    raw.request(7, "Test::AsyncService", "never", "[]", quint8(Serialization::Json), 200);
    const std::optional<Frame> answer = raw.readFrame(10000);
    QVERIFY(answer);
    QCOMPARE(answer->command, quint8(Frame::Response));
    QCOMPARE(answer->messageId, quint64(7));
    Extension ext;
    QString error;
    QVERIFY(Extension::decode(answer->extension, &ext, &error));
    QCOMPARE(ext.value(ExtensionKey::Code), QByteArray::number(RpcError::DeadlineExceeded));
    QTRY_COMPARE(m_upImpl->neverCancelled.load(), cancelled + 1);
    QCOMPARE(m_up->stats().callsExpired(), expired + 1);

    // A stub's own timeout races the server's deadline: either way the future is cancelled.
    QFuture<int> call = m_stub->neverAsync(CallOptions().setTimeout(200ms));
    const RpcError::Code code = codeOf([&] { waitFor(call); });
    QVERIFY2(code == RpcError::DeadlineExceeded || code == RpcError::Timeout, qPrintable(RpcError::codeName(code)));
    QTRY_COMPARE(m_upImpl->neverCancelled.load(), cancelled + 2);
}

QTEST_GUILESS_MAIN(tst_Async)
#include "tst_async.moc"
