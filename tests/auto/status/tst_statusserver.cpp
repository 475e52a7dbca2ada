// SPDX-License-Identifier: Apache-2.0
// The status of a real RpcServer on every transport (docs/STATUS.md): HTTP on its RPC
// addresses next to RPC calls, bad and slow HTTP clients beside 200 calls, the built-in
// Tomato::Introspection service through its generated stub and a DynamicStub, and a server
// with status turned off. (What does not depend on the transport: tst_statuspages.)
#include "everytransport.h"
#include "rpcerrorof.h"
#include "statusnode.h"
#include "testservice_stub.h"

#include <tomato/client/dynamicstub.h>
#include <tomato/client/rpcclient.h>
#include <tomato/status/introspection_stub.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtTest/QTest>

using namespace Tomato;
using namespace StatusTest;
using namespace EveryTransport;

class tst_StatusServer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase_data() { addRows(); }
    void initTestCase() { setUp(); }
    void cleanupTestCase() { tearDown(); }
    void statusRequestsAndCallsShareEveryAddress();
    void badAndSlowStatusClientsDisturbNoCall();
    void introspectionAnswersItsStubAndDynamicCalls();
    void withStatusOffAnHttpRequestIsACorruptStream();
};

void tst_StatusServer::statusRequestsAndCallsShareEveryAddress()
{
    Node node(serverConfig());
    QVERIFY2(node.server->start(), qPrintable(node.server->errorString()));
    const QString ca = transport() == QLatin1String("tls") ? certificates->ca() : QString();
    const auto live = get(node.address(), "/tomato/status/live", ca);
    QVERIFY(live);
    QCOMPARE(live->status, 200);
    QCOMPARE(live->body, QByteArray("live\n"));
    const auto page = get(node.address(), "/tomato/status/node", ca);
    QVERIFY(page);
    QCOMPARE(json(page).object().value(QStringLiteral("microServiceId")).toString(), QStringLiteral("test-service"));
    // RPC on the same address, before and after, on a connection of its own.
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<Test::TestService>(node.address());
    QCOMPARE(stub->add(2, 3), 5);
    QVERIFY(get(node.address(), "/metrics", ca));
    QCOMPARE(stub->echo(QStringLiteral("still")), QStringLiteral("still"));
    // A status connection is no RPC connection, and it is not a protocol error.
    QCOMPARE(node.server->stats().protocolErrors(), quint64(0));
    QTRY_COMPARE(node.server->stats().connections(), 1);
}

void tst_StatusServer::badAndSlowStatusClientsDisturbNoCall()
{
    RpcConfig config = serverConfig();
    config.setStatusRequestTimeoutMs(300);
    Node node(config);
    QVERIFY(node.server->start());
    const QString ca = transport() == QLatin1String("tls") ? certificates->ca() : QString();
    RawClient slow, garbage;
    QVERIFY(slow.connectTo(node.address(), ca));
    slow.write("GET /tomato/sta"); // and nothing more
    QVERIFY(garbage.connectTo(node.address(), ca));
    garbage.write("GARBAGE\x01\x02 \r\n\r\n");
    QByteArray buffer;
    const auto refused = readAnswer(garbage.socket(), buffer);
    QVERIFY(refused);
    QCOMPARE(refused->status, 400);
    QVERIFY(garbage.waitForClose());

    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<Test::TestService>(node.address());
    QList<QFuture<int>> calls;
    for (int i = 0; i < 200; ++i)
        calls.append(stub->addAsync(i, 1));
    for (int i = 0; i < calls.size(); ++i)
        QCOMPARE(waitFor(calls.at(i)), i + 1);
    // The slow request ran out of time: 408, then closed.
    QByteArray slowBuffer;
    const auto timedOut = readAnswer(slow.socket(), slowBuffer);
    QVERIFY(timedOut);
    QCOMPARE(timedOut->status, 408);
    QVERIFY(slow.waitForClose());
    QCOMPARE(node.server->stats().protocolErrors(), quint64(0));
    QCOMPARE(node.server->stats().callsFailed(), quint64(0));
}

void tst_StatusServer::introspectionAnswersItsStubAndDynamicCalls()
{
    RpcConfig config = serverConfig();
    config.setStage(QStringLiteral("qa"));
    config.setGroup(QStringLiteral("blue"));
    Node node(config);
    QVERIFY(node.server->start());
    RpcClient client(clientConfig());
    auto stub = client.createDirectStub<Test::TestService>(node.address());
    QCOMPARE(stub->add(1, 2), 3);

    IntrospectionStub introspection(client.directChannel(node.address()));
    const QVariantMap self = introspection.node();
    QCOMPARE(self.value(QStringLiteral("stage")).toString(), QStringLiteral("qa"));
    QCOMPARE(self.value(QStringLiteral("group")).toString(), QStringLiteral("blue"));
    QCOMPARE(self.value(QStringLiteral("microServiceId")).toString(), QStringLiteral("test-service"));
    QCOMPARE(self.value(QStringLiteral("ready")).toBool(), true);
    QCOMPARE(self.value(QStringLiteral("addresses")).toList().value(0).toString(), node.address().toString());
    QVERIFY(self.value(QStringLiteral("uptimeSeconds")).toLongLong() >= 0);
    QCOMPARE(introspection.services().size(), 2);
    const QVariantMap stats = introspection.statistics();
    QVERIFY(stats.value(QStringLiteral("callsSucceeded")).toULongLong() >= 1);
    QVERIFY(introspection.metrics().startsWith(QLatin1String("# HELP tomato_build_info")));

    // A JSON-only caller reads the same.
    DynamicStub dynamic(client.directChannel(node.address()), QStringLiteral("Tomato::Introspection"));
    const QJsonValue fromJson = waitFor(dynamic.callJson(QStringLiteral("node"), {}));
    QCOMPARE(fromJson[QLatin1String("group")].toString(), QStringLiteral("blue"));
    const QJsonValue services = waitFor(dynamic.callJson(QStringLiteral("services"), {}));
    QCOMPARE(services.toArray().size(), 2);
}

void tst_StatusServer::withStatusOffAnHttpRequestIsACorruptStream()
{
    RpcConfig config = serverConfig();
    config.setStatusEnabled(false);
    Node node(config);
    QVERIFY(node.server->start());
    RawClient raw;
    QVERIFY(raw.connectTo(node.address(), transport() == QLatin1String("tls") ? certificates->ca() : QString()));
    raw.write("GET /tomato/status/live HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto error = raw.readFrame();
    QVERIFY(error);
    QCOMPARE(error->command, quint16(Frame::Error));
    QVERIFY(raw.waitForClose());
    RpcClient client(clientConfig());
    DynamicStub dynamic(client.directChannel(node.address()), QStringLiteral("Tomato::Introspection"));
    QCOMPARE(codeOf([&] { waitFor(dynamic.callJson(QStringLiteral("node"), {})); }), RpcError::UnknownService);
}

QTEST_GUILESS_MAIN(tst_StatusServer)
#include "tst_statusserver.moc"
