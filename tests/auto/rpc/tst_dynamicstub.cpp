// SPDX-License-Identifier: Apache-2.0
// Calls without a generated stub (docs/STUBS.md#dynamic-calls): DynamicStub against a real
// server, over a direct channel and through a cluster channel, with JSON and with variants;
// and the errors the server gives a caller that guessed a method or its arguments wrong.
#include "rpcerrorof.h"
#include "testserviceimpl.h"

#include <tomato/client/dynamicstub.h>
#include <tomato/client/rpcclient.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/server/rpcserver.h>

#include <QtCore/QJsonObject>
#include <QtTest/QTest>

using namespace Tomato;

class tst_DynamicStub : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void jsonArgumentsReachTheMethodAndTheResultComesBack();
    void variantArgumentsAreWrittenByTheirTypes();
    void voidMethodsAnswerUndefinedOrInvalid();
    void callOptionsTravel();
    void wrongGuessesGetTheServersCodes_data();
    void wrongGuessesGetTheServersCodes();
    void applicationExceptionsCarryTypeAndMessage();
    void clusterChannelsBalanceDynamicCalls();
    void aStubNeedsAChannelAndAService();

private:
    DynamicStub stub(const QString &service = QStringLiteral("Test::TestService"));

    Test::Gates m_gates;
    Test::TestServiceImpl m_impl{&m_gates};
    std::unique_ptr<RpcServer> m_server;
    std::unique_ptr<RpcClient> m_client;
};

void tst_DynamicStub::initTestCase()
{
    RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    m_server = std::make_unique<RpcServer>(config);
    m_server->publish<Test::TestService>(&m_impl);
    QVERIFY2(m_server->start(), qPrintable(m_server->errorString()));
    m_client = std::make_unique<RpcClient>();
}

void tst_DynamicStub::cleanupTestCase()
{
    m_client.reset();
    m_server.reset();
}

DynamicStub tst_DynamicStub::stub(const QString &service)
{
    return DynamicStub(m_client->directChannel(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), m_server->port())),
                       service);
}

void tst_DynamicStub::jsonArgumentsReachTheMethodAndTheResultComesBack()
{
    DynamicStub s = stub();
    QCOMPARE(s.service(), QStringLiteral("Test::TestService"));
    QCOMPARE(waitFor(s.callJson(QStringLiteral("echo"), QJsonArray{QStringLiteral("tomato")})),
             QJsonValue(QStringLiteral("tomato")));
    QCOMPARE(waitFor(s.callJson(QStringLiteral("add"), QJsonArray{40, 2})), QJsonValue(42));
    // A list of gadgets comes back as an array of objects.
    const QJsonValue items = waitFor(s.callJson(QStringLiteral("items"), QJsonArray{2}));
    QVERIFY(items.isArray());
    QCOMPARE(items.toArray().size(), 2);
    QVERIFY(items.toArray().at(0).toObject().contains(QStringLiteral("name")));
    // Byte arrays travel in base64, enums by name.
    QCOMPARE(waitFor(s.callJson(QStringLiteral("bytes"), QJsonArray{QStringLiteral("AAH/")})),
             QJsonValue(QStringLiteral("AAH/")));
    QCOMPARE(waitFor(s.callJson(QStringLiteral("next"), QJsonArray{QStringLiteral("Red")})),
             QJsonValue(QStringLiteral("Green")));
    const QJsonObject map{{QStringLiteral("k"), 1}, {QStringLiteral("l"), QJsonArray{true, QStringLiteral("x")}}};
    QCOMPARE(waitFor(s.callJson(QStringLiteral("mapEcho"), QJsonArray{map})), QJsonValue(map));
}

void tst_DynamicStub::variantArgumentsAreWrittenByTheirTypes()
{
    DynamicStub s = stub();
    QCOMPARE(waitFor(s.call(QStringLiteral("add"), {2, 3})).toInt(), 5);
    // A QByteArray argument is sent in base64 and comes back as its base64 text.
    const QByteArray raw("\x00\x01\xff", 3);
    QCOMPARE(waitFor(s.call(QStringLiteral("bytes"), {raw})).toString(), QString::fromLatin1(raw.toBase64()));
    const QVariantMap map{{QStringLiteral("n"), 2.5}, {QStringLiteral("s"), QStringLiteral("t")}};
    QCOMPARE(waitFor(s.call(QStringLiteral("mapEcho"), {map})).toMap(), map);
}

void tst_DynamicStub::voidMethodsAnswerUndefinedOrInvalid()
{
    DynamicStub s = stub();
    const int before = m_impl.touches();
    QVERIFY(waitFor(s.callJson(QStringLiteral("touch"), {})).isUndefined());
    QVERIFY(!waitFor(s.call(QStringLiteral("touch"), {})).isValid());
    QCOMPARE(m_impl.touches(), before + 2);
}

void tst_DynamicStub::callOptionsTravel()
{
    DynamicStub s = stub();
    const QJsonValue info = waitFor(s.callJson(QStringLiteral("callInfo"), {},
                                               CallOptions().setTraceId("trace-7").addContext(QStringLiteral("user"), QStringLiteral("ann"))));
    QCOMPARE(info.toObject().value(QStringLiteral("traceId")).toString(), QStringLiteral("trace-7"));
    QCOMPARE(info.toObject().value(QStringLiteral("context")).toObject().value(QStringLiteral("user")).toString(),
             QStringLiteral("ann"));
    // The timeout bounds the call: a method that waits at a closed gate times out.
    s.setTimeout(std::chrono::milliseconds(100));
    QCOMPARE(s.timeout(), std::chrono::milliseconds(100));
    QCOMPARE(codeOf([&] { waitFor(s.callJson(QStringLiteral("waitAtGate"), QJsonArray{QStringLiteral("never")})); }),
             RpcError::Timeout);
    m_gates.open(QStringLiteral("never")); // let the server's thread go
}

void tst_DynamicStub::wrongGuessesGetTheServersCodes_data()
{
    QTest::addColumn<QString>("service");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QJsonArray>("arguments");
    QTest::addColumn<int>("code");
    QTest::newRow("unknown service") << "No::Such" << "echo" << QJsonArray{QStringLiteral("x")} << int(RpcError::UnknownService);
    QTest::newRow("unknown method") << "Test::TestService" << "nope" << QJsonArray{} << int(RpcError::UnknownMethod);
    QTest::newRow("too few arguments") << "Test::TestService" << "add" << QJsonArray{1} << int(RpcError::BadArguments);
    QTest::newRow("too many arguments") << "Test::TestService" << "echo" << QJsonArray{QStringLiteral("a"), 2}
                                        << int(RpcError::BadArguments);
    QTest::newRow("wrong type") << "Test::TestService" << "add" << QJsonArray{QStringLiteral("one"), 2}
                                << int(RpcError::BadArguments);
    QTest::newRow("bad base64") << "Test::TestService" << "bytes" << QJsonArray{QStringLiteral("!!!")}
                                << int(RpcError::BadArguments);
}

void tst_DynamicStub::wrongGuessesGetTheServersCodes()
{
    QFETCH(QString, service);
    QFETCH(QString, method);
    QFETCH(QJsonArray, arguments);
    QFETCH(int, code);
    DynamicStub s = stub(service);
    const RpcError e = errorOf([&] { waitFor(s.callJson(method, arguments)); });
    QCOMPARE(int(e.code()), code);
    QVERIFY(!e.message().isEmpty());
    // The connection is still good for the next call.
    QCOMPARE(waitFor(stub().callJson(QStringLiteral("add"), QJsonArray{1, 1})), QJsonValue(2));
}

void tst_DynamicStub::applicationExceptionsCarryTypeAndMessage()
{
    DynamicStub s = stub();
    const RpcError e = errorOf([&] { waitFor(s.callJson(QStringLiteral("throwRuntimeError"), QJsonArray{QStringLiteral("boom")})); });
    QCOMPARE(e.code(), RpcError::ApplicationException);
    QCOMPARE(e.remoteType(), QStringLiteral("std::runtime_error"));
    QCOMPARE(e.message(), QStringLiteral("boom"));
}

void tst_DynamicStub::clusterChannelsBalanceDynamicCalls()
{
    // A second server: the cluster channel spreads calls over both.
    Test::TestServiceImpl other(&m_gates);
    RpcConfig serverConfig;
    serverConfig.setHost(QStringLiteral("127.0.0.1"));
    RpcServer second(serverConfig);
    second.publish<Test::TestService>(&other);
    QVERIFY(second.start());
    RpcConfig config;
    config.setLoadBalance(QStringLiteral("round-robin"));
    config.setNameServiceUri(QStringLiteral("static://127.0.0.1:%1,127.0.0.1:%2").arg(m_server->port()).arg(second.port()));
    RpcClient client(config);
    std::unique_ptr<Registry> registry = RegistryFactory().create(config);
    client.setRegistry(registry.get());
    DynamicStub s(client.clusterChannel(QStringLiteral("test-service")), QStringLiteral("Test::TestService"));
    QTRY_COMPARE(client.instances(QStringLiteral("test-service")).size(), 2);
    const int before = m_impl.touches();
    for (int i = 0; i < 10; ++i)
        waitFor(s.callJson(QStringLiteral("touch"), {}));
    QCOMPARE(m_impl.touches() - before, 5);
    QCOMPARE(other.touches(), 5);
    client.setRegistry(nullptr);
}

void tst_DynamicStub::aStubNeedsAChannelAndAService()
{
    QCOMPARE(codeOf([] { DynamicStub(nullptr, QStringLiteral("X")); }), RpcError::BadArguments);
    QCOMPARE(codeOf([&] { DynamicStub(m_client->directChannel(Endpoint(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), 1)), QString()); }),
             RpcError::BadArguments);
}

QTEST_GUILESS_MAIN(tst_DynamicStub)
#include "tst_dynamicstub.moc"
