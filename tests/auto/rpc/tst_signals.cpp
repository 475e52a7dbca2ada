// SPDX-License-Identifier: Apache-2.0
// Remote signals (docs/SIGNALS.md) against real servers over real sockets: delivery in order
// with every argument type, unsubscribe on the last disconnect (seen on the server),
// re-subscription after the server restarts, the cut for a subscriber that never reads, both
// instances of a cluster delivering, refusals, unpublish, and the documented bytes.
#include "documentedbytes.h"
#include "rawclient.h"
#include "signalserviceimpl.h"

#include "signalservice_stub.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/registry/staticregistry_p.h>
#include <tomato/server/rpcserver.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QFile>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

using namespace Tomato;
using namespace std::chrono_literals;

namespace {

// A registry whose list the test changes: instances come and go as the test says.
class MovingRegistry : public Registry
{
public:
    void start() override {}
    void stop() override {}
    void registerInstance(const InstanceInfo &) override {}
    void unregisterInstance(const InstanceInfo &) override {}
    void subscribe(const QString &, const QString &) override {}
    QList<InstanceInfo> instances(const QString &, const QString &) const override { return m_instances; }
    bool isConnected() const override { return true; }

    // Lists the servers at these ports (as a static registry would), started at `startTime`
    // (a restarted server announces a new one), and says so.
    void list(const QList<quint16> &ports, qint64 startTime = 1)
    {
        QStringList addresses;
        for (quint16 port : ports)
            addresses << QStringLiteral("127.0.0.1:%1").arg(port);
        m_instances = ports.isEmpty() ? QList<InstanceInfo>()
                                      : StaticRegistry(QStringLiteral("static://") + addresses.join(QLatin1Char(',')))
                                            .instances(QStringLiteral("signal-service"), QStringLiteral("default"));
        for (InstanceInfo &i : m_instances)
            i.setStartTime(startTime);
        Q_EMIT instancesChanged(QStringLiteral("signal-service"), QStringLiteral("default"), m_instances);
    }

private:
    QList<InstanceInfo> m_instances;
};

struct Received
{
    int n;
    QString text;
    Test::Tick tick;
};

} // namespace

class tst_Signals : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void aReceiverGetsEveryEventInOrderWithItsArguments();
    void theLastDisconnectUnsubscribesOnTheServer();
    void aSignalWithoutReceiversCostsTheServerNothing();
    void subscriptionsComeBackAfterTheServerRestarts();
    void aSubscriberThatNeverReadsIsCutOffAlone();
    void bothInstancesOfAClusterDeliver();
    void aClusterSubscriptionFollowsInstancesAsTheyComeAndGo();
    void aClusterSubscriptionSurvivesARestartOnTheSameAddress();
    void unknownSignalsAndServicesAreRefused();
    void aConnectionHoldsAtMost1024Subscriptions();
    void unpublishingEndsTheSubscription();
    void theDocumentedBytesSubscribeAndReceive();

private:
    std::unique_ptr<RpcServer> startServer(Test::SignalServiceImpl *impl, quint16 port = 0, qint64 maxEventQueueBytes = 0)
    {
        RpcConfig config;
        config.setHost(QStringLiteral("127.0.0.1"));
        config.setPort(port);
        if (maxEventQueueBytes > 0)
            config.setMaxEventQueueBytes(maxEventQueueBytes);
        auto server = std::make_unique<RpcServer>(config);
        server->publish<Test::SignalService>(impl);
        if (!server->start())
            qWarning() << server->errorString();
        return server;
    }
    static Endpoint address(const RpcServer &server)
    {
        return Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), server.port());
    }

    std::unique_ptr<Test::SignalServiceImpl> m_impl;
    std::unique_ptr<RpcServer> m_server;
    std::unique_ptr<RpcClient> m_client;
};

void tst_Signals::init()
{
    qRegisterMetaType<Test::Tick>();
    m_impl = std::make_unique<Test::SignalServiceImpl>(QStringLiteral("one"));
    m_server = startServer(m_impl.get());
    QVERIFY(m_server->isRunning());
    m_client = std::make_unique<RpcClient>();
}

void tst_Signals::cleanup()
{
    m_client.reset();
    m_server.reset();
    m_impl.reset();
}

void tst_Signals::aReceiverGetsEveryEventInOrderWithItsArguments()
{
    auto stub = m_client->createDirectStub<Test::SignalService>(address(*m_server));
    QSignalSpy confirmed(stub->signalStatus(), &RemoteSignalStatus::subscribed);
    QList<Received> received;
    connect(stub.get(), &Test::SignalService::ticked, this,
            [&](int n, const QString &text, const Test::Tick &tick) { received.append({n, text, tick}); });
    QTRY_COMPARE(confirmed.size(), 1);
    QCOMPARE(confirmed.at(0).at(1).toString(), QStringLiteral("ticked"));
    QCOMPARE(m_server->stats().subscriptions(), 1); // ticked only: nobody listens to listChanged

    QCOMPARE(stub->fire(500, QStringLiteral("héllo ✓")), 500);
    QTRY_COMPARE(received.size(), 500);
    for (int i = 0; i < received.size(); ++i) {
        QCOMPARE(received.at(i).n, i + 1); // the order the server emitted them in
        QCOMPARE(received.at(i).text, QStringLiteral("héllo ✓"));
        QCOMPARE(received.at(i).tick, (Test::Tick{i + 1, QStringLiteral("one")}));
    }

    // A second signal, JSON this time: the stub's serialization is the events' too.
    stub->stubCore().setSerialization(Serialization::Json);
    QStringList items;
    connect(stub.get(), &Test::SignalService::listChanged, this, [&](const QStringList &l) { items = l; });
    QTRY_COMPARE(m_server->stats().subscriptions(), 2);
    stub->announce({QStringLiteral("a"), QStringLiteral("b")});
    QTRY_COMPARE(items, (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
}

void tst_Signals::theLastDisconnectUnsubscribesOnTheServer()
{
    auto stub = m_client->createDirectStub<Test::SignalService>(address(*m_server));
    int first = 0, second = 0;
    auto a = connect(stub.get(), &Test::SignalService::ticked, this, [&] { ++first; });
    auto b = connect(stub.get(), &Test::SignalService::ticked, this, [&] { ++second; });
    QTRY_COMPARE(m_server->stats().subscriptions(), 1); // one subscription for both receivers
    stub->fire(3, QString());
    QTRY_COMPARE(second, 3);
    QCOMPARE(first, 3);

    disconnect(a);
    stub->fire(2, QString());
    QTRY_COMPARE(second, 5);
    QCOMPARE(m_server->stats().subscriptions(), 1);

    disconnect(b);
    QTRY_COMPARE(m_server->stats().subscriptions(), 0);
    const quint64 events = m_server->stats().events();
    stub->fire(10, QString());
    QCOMPARE(m_server->stats().events(), events); // the server sent nothing
    QCOMPARE(first + second, 8);

    // Connecting again subscribes again.
    connect(stub.get(), &Test::SignalService::ticked, this, [&] { ++first; });
    QTRY_COMPARE(m_server->stats().subscriptions(), 1);
}

void tst_Signals::aSignalWithoutReceiversCostsTheServerNothing()
{
    auto stub = m_client->createDirectStub<Test::SignalService>(address(*m_server));
    QCOMPARE(stub->fire(100, QStringLiteral("x")), 100);
    QCOMPARE(m_server->stats().subscriptions(), 0);
    QCOMPARE(m_server->stats().events(), quint64(0));
}

void tst_Signals::subscriptionsComeBackAfterTheServerRestarts()
{
    auto stub = m_client->createDirectStub<Test::SignalService>(address(*m_server));
    QSignalSpy confirmed(stub->signalStatus(), &RemoteSignalStatus::subscribed);
    QSignalSpy missed(stub->signalStatus(), &RemoteSignalStatus::eventsMayHaveBeenMissed);
    QList<int> received;
    connect(stub.get(), &Test::SignalService::ticked, this, [&](int n) { received.append(n); });
    QTRY_COMPARE(confirmed.size(), 1);
    stub->fire(2, QString());
    QTRY_COMPARE(received.size(), 2);

    const quint16 port = m_server->port();
    m_server.reset(); // the process "restarts": a new server on the same port
    m_server = startServer(m_impl.get(), port);
    QVERIFY(m_server->isRunning());
    QTRY_COMPARE_WITH_TIMEOUT(missed.size(), 1, 15000); // re-subscribed by itself, and says so
    QCOMPARE(missed.at(0).at(1).toString(), QStringLiteral("ticked"));
    QCOMPARE(confirmed.size(), 2);
    QCOMPARE(m_server->stats().subscriptions(), 1);
    stub->fire(3, QString());
    QTRY_COMPARE(received.size(), 5);
    QCOMPARE(received, (QList<int>{1, 2, 1, 2, 3}));
}

void tst_Signals::aSubscriberThatNeverReadsIsCutOffAlone()
{
    m_server.reset();
    constexpr qint64 limit = 256 << 10;
    m_server = startServer(m_impl.get(), 0, limit);
    // A subscriber that never reads: its socket's buffers fill, then the server's queue.
    RawClient stuck;
    QVERIFY(stuck.connectTo(address(*m_server)));
    stuck.socket().setReadBufferSize(1); // Qt reads (almost) nothing for it
    QByteArray subscribe;
    Frame::encode(subscribe, Frame::Subscribe, 0, 1, "service:Test%3A%3ASignalService&signal:ticked", {});
    stuck.write(subscribe);
    QTRY_COMPARE(m_server->stats().subscriptions(), 1);

    auto stub = m_client->createDirectStub<Test::SignalService>(address(*m_server));
    QSignalSpy ended(stub->signalStatus(), &RemoteSignalStatus::subscriptionEnded);
    int received = 0;
    connect(stub.get(), &Test::SignalService::ticked, this, [&] { ++received; });
    QTRY_COMPARE(m_server->stats().subscriptions(), 2);

    // 4,000 events of 4 KiB: 16 MiB, far more than the kernel buffers and the limit together.
    const QString text(4096, QLatin1Char('x'));
    for (int i = 0; i < 40; ++i)
        QCOMPARE(stub->fire(100, text), 100);
    QTRY_COMPARE(m_server->stats().subscriptionsEnded(), quint64(1));
    QTRY_COMPARE_WITH_TIMEOUT(received, 4000, 30000); // the reader lost nothing
    QCOMPARE(ended.size(), 0);                        // and was not told anything
    QCOMPARE(m_server->stats().subscriptions(), 1);

    // The stuck one, once it reads, finds the notice after the events it was sent.
    stuck.socket().setReadBufferSize(0);
    std::optional<Frame> last;
    int events = 0;
    while (auto f = stuck.readFrame(10000)) {
        if (f->command == Frame::Event)
            ++events;
        if (f->command == Frame::Unsubscribe) {
            last = f;
            break;
        }
    }
    QVERIFY(last);
    QVERIFY(events > 0 && events < 4000);
    const Extension ext = RawClient::extension(*last);
    QCOMPARE(ext.value("code"), QByteArray("216"));
    QVERIFY2(ext.value("message").contains("max-event-queue-bytes"), ext.value("message").constData());
}

void tst_Signals::bothInstancesOfAClusterDeliver()
{
    Test::SignalServiceImpl otherImpl(QStringLiteral("two"));
    auto other = startServer(&otherImpl);
    RpcConfig config;
    config.setNameServiceUri(QStringLiteral("static://127.0.0.1:%1,127.0.0.1:%2").arg(m_server->port()).arg(other->port()));
    RpcClient client(config);
    std::unique_ptr<Registry> registry = RegistryFactory().create(config);
    client.setRegistry(registry.get());
    auto stub = client.stub<Test::SignalService>();
    QSet<QString> from;
    connect(stub.get(), &Test::SignalService::ticked, this,
            [&](int, const QString &, const Test::Tick &tick) { from.insert(tick.from); });
    QTRY_COMPARE(m_server->stats().subscriptions(), 1);
    QTRY_COMPARE(other->stats().subscriptions(), 1);
    m_impl->fire(1, QString()); // emitted by the implementations themselves, not by a call
    otherImpl.fire(1, QString());
    QTRY_COMPARE(from, (QSet<QString>{QStringLiteral("one"), QStringLiteral("two")}));

    stub.reset(); // the stub going unsubscribes everywhere
    QTRY_COMPARE(m_server->stats().subscriptions(), 0);
    QTRY_COMPARE(other->stats().subscriptions(), 0);
    client.setRegistry(nullptr);
}

void tst_Signals::aClusterSubscriptionFollowsInstancesAsTheyComeAndGo()
{
    Test::SignalServiceImpl otherImpl(QStringLiteral("two"));
    auto other = startServer(&otherImpl);
    MovingRegistry registry;
    registry.list({m_server->port()});
    RpcClient client;
    client.setRegistry(&registry);
    auto stub = client.stub<Test::SignalService>();
    QStringList from;
    connect(stub.get(), &Test::SignalService::ticked, this,
            [&](int, const QString &, const Test::Tick &tick) { from.append(tick.from); });
    QTRY_COMPARE(m_server->stats().subscriptions(), 1);
    QCOMPARE(other->stats().subscriptions(), 0);

    registry.list({m_server->port(), other->port()}); // an instance joins: subscribed at once
    QTRY_COMPARE(other->stats().subscriptions(), 1);
    otherImpl.fire(1, QString());
    QTRY_COMPARE(from, QStringList{QStringLiteral("two")});

    registry.list({other->port()}); // one leaves: its subscription is withdrawn
    QTRY_COMPARE(m_server->stats().subscriptions(), 0);
    QCOMPARE(other->stats().subscriptions(), 1);
    const quint64 sentBefore = m_server->stats().events();
    m_impl->fire(1, QString());
    otherImpl.fire(1, QString());
    QTRY_COMPARE(from.size(), 2);
    QCOMPARE(from.last(), QStringLiteral("two"));
    QCOMPARE(m_server->stats().events(), sentBefore); // the one that left sent nothing
    client.setRegistry(nullptr);
}

// The registry lists the restarted server as a new instance (a new start time) at the same
// address: a new invoker with new connections, which must get the subscription again.
void tst_Signals::aClusterSubscriptionSurvivesARestartOnTheSameAddress()
{
    MovingRegistry registry;
    registry.list({m_server->port()}, 1);
    RpcClient client;
    client.setRegistry(&registry);
    auto stub = client.stub<Test::SignalService>();
    QSignalSpy confirmed(stub->signalStatus(), &RemoteSignalStatus::subscribed);
    QList<int> received;
    connect(stub.get(), &Test::SignalService::ticked, this, [&](int n) { received.append(n); });
    QTRY_COMPARE(confirmed.size(), 1);

    const quint16 port = m_server->port();
    m_server.reset();
    registry.list({}, 1); // it left the registry
    m_server = startServer(m_impl.get(), port);
    QVERIFY(m_server->isRunning());
    registry.list({port}, 2); // and came back, restarted
    QTRY_COMPARE_WITH_TIMEOUT(m_server->stats().subscriptions(), 1, 10000);
    QTRY_COMPARE(confirmed.size(), 2);
    m_impl->fire(2, QString());
    QTRY_COMPARE(received, (QList<int>{1, 2}));

    // The same again without leaving the registry first (killed, restarted, re-registered).
    m_server.reset();
    m_server = startServer(m_impl.get(), port);
    registry.list({port}, 3);
    QTRY_COMPARE_WITH_TIMEOUT(m_server->stats().subscriptions(), 1, 10000);
    m_impl->fire(1, QString());
    QTRY_COMPARE(received, (QList<int>{1, 2, 1}));
    client.setRegistry(nullptr);
}

void tst_Signals::unknownSignalsAndServicesAreRefused()
{
    RawClient raw;
    QVERIFY(raw.connectTo(address(*m_server)));
    auto expectRefusal = [&](quint64 id, const QByteArray &ext, const QByteArray &code, const QByteArray &text) {
        QByteArray bytes;
        Frame::encode(bytes, Frame::Subscribe, 1, id, ext, {});
        raw.write(bytes);
        const auto f = raw.readFrame();
        QVERIFY(f);
        QCOMPARE(f->command, quint16(Frame::Response));
        QCOMPARE(f->messageId, id);
        const Extension e = RawClient::extension(*f);
        QCOMPARE(e.value("code"), code);
        QVERIFY2(e.value("message").contains(text), e.value("message").constData());
    };
    expectRefusal(1, "service:Test%3A%3ASignalService&signal:nope", "201", "no signal 'nope' (signals: ticked, listChanged)");
    expectRefusal(2, "service:Nope&signal:ticked", "200", "not published");
    expectRefusal(3, "service:Test%3A%3ASignalService", "213", "needs a non-empty 'signal'");
    expectRefusal(4, "service:Test%3A%3ASignalService&signal:fire", "201", "no signal 'fire'"); // a method is no signal
    QCOMPARE(m_server->stats().subscriptions(), 0);
}

void tst_Signals::aConnectionHoldsAtMost1024Subscriptions()
{
    RawClient raw;
    QVERIFY(raw.connectTo(address(*m_server)));
    QByteArray bytes;
    for (quint64 id = 1; id <= 1025; ++id)
        Frame::encode(bytes, Frame::Subscribe, 1, id, "service:Test%3A%3ASignalService&signal:ticked", {});
    raw.write(bytes);
    for (quint64 id = 1; id <= 1025; ++id) {
        const auto f = raw.readFrame();
        QVERIFY(f);
        QCOMPARE(f->messageId, id);
        QCOMPARE(RawClient::extension(*f).value("code"), id <= 1024 ? QByteArray("0") : QByteArray("203"));
    }
    QCOMPARE(m_server->stats().subscriptions(), 1024);
    // One withdrawn makes room for one more; the connection served all along.
    QByteArray more;
    Frame::encode(more, Frame::Unsubscribe, 1, 1, {}, {});
    Frame::encode(more, Frame::Subscribe, 1, 2000, "service:Test%3A%3ASignalService&signal:listChanged", {});
    raw.write(more);
    const auto f = raw.readFrame();
    QVERIFY(f);
    QCOMPARE(f->messageId, quint64(2000));
    QCOMPARE(RawClient::extension(*f).value("code"), QByteArray("0"));
    QCOMPARE(m_server->stats().subscriptions(), 1024);
}

void tst_Signals::unpublishingEndsTheSubscription()
{
    auto stub = m_client->createDirectStub<Test::SignalService>(address(*m_server));
    QSignalSpy ended(stub->signalStatus(), &RemoteSignalStatus::subscriptionEnded);
    connect(stub.get(), &Test::SignalService::ticked, this, [] {});
    QTRY_COMPARE(m_server->stats().subscriptions(), 1);
    QVERIFY(m_server->unpublish(Test::SignalService::staticMetaObject));
    QTRY_COMPARE(ended.size(), 1);
    QCOMPARE(ended.at(0).at(1).toString(), QStringLiteral("ticked"));
    QCOMPARE(ended.at(0).at(2).toInt(), int(RpcError::UnknownService));
    QVERIFY(ended.at(0).at(3).toString().contains(QLatin1String("unpublished")));
    QCOMPARE(m_server->stats().subscriptions(), 0);
    m_impl->fire(1, QString()); // the relay is gone: nothing happens
}

namespace {
QByteArray documentedBytes(const char *marker)
{
    return documentedBytes(QStringLiteral(QT_TESTCASE_SOURCEDIR "/../../../docs/PROTOCOL.md"), marker);
}
} // namespace

// The example of docs/PROTOCOL.md section 8a, byte for byte, read from the document.
void tst_Signals::theDocumentedBytesSubscribeAndReceive()
{
    const QByteArray subscribe = documentedBytes("<!-- example-subscribe -->");
    const QByteArray subscribed = documentedBytes("<!-- example-subscribed -->");
    const QByteArray event = documentedBytes("<!-- example-event -->");
    const QByteArray unsubscribe = documentedBytes("<!-- example-unsubscribe -->");
    QCOMPARE(subscribe.size(), 74);
    QCOMPARE(subscribed.size(), 30);
    QCOMPARE(event.size(), 36);
    QCOMPARE(unsubscribe.size(), 24);

    RawClient raw;
    QVERIFY(raw.connectTo(address(*m_server)));
    raw.write(subscribe);
    const auto confirmation = raw.readFrame();
    QVERIFY(confirmation);
    QByteArray bytes;
    confirmation->encodeTo(bytes);
    QCOMPARE(bytes.toHex(' '), subscribed.toHex(' '));

    m_impl->announce({QStringLiteral("a")});
    const auto received = raw.readFrame();
    QVERIFY(received);
    bytes.clear();
    received->encodeTo(bytes);
    QCOMPARE(bytes.toHex(' '), event.toHex(' '));

    raw.write(unsubscribe);
    QTRY_COMPARE(m_server->stats().subscriptions(), 0);
}

QTEST_GUILESS_MAIN(tst_Signals)
#include "tst_signals.moc"
