// The status of a real RpcServer (docs/STATUS.md): HTTP on its RPC addresses over every
// transport next to RPC calls, the pages' content (services, invokers in Tomato-RPC's shape,
// statistics), Prometheus metrics that parse and move with calls, readiness through a
// server's life, the built-in Tomato::Introspection service through its generated stub and a
// DynamicStub, and a server with status turned off.
#include "everytransport.h"
#include "prometheustext.h"
#include "rawclient.h"
#include "rpcerrorof.h"
#include "testservice_stub.h"
#include "testserviceimpl.h"

#include <tomato/client/dynamicstub.h>
#include <tomato/client/rpcclient.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/server/rpcserver.h>
#include <tomato/status/introspection_stub.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QRandomGenerator>
#include <QtConcurrent/QtConcurrent>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

using namespace Tomato;
using namespace EveryTransport;

namespace {

struct HttpAnswer
{
    int status = 0;
    QByteArray head; // status line and headers
    QByteArray body;
    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            const int colon = line.indexOf(':');
            if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
                return line.mid(colon + 1).trimmed();
        }
        return {};
    }
};

// Reads one HTTP answer (with Content-Length) from the socket, or nothing before the deadline.
std::optional<HttpAnswer> readAnswer(QTcpSocket &socket, QByteArray &buffer, int ms = 5000)
{
    QDeadlineTimer deadline(ms);
    while (!deadline.hasExpired()) {
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end >= 0) {
            HttpAnswer a;
            a.head = buffer.left(end);
            a.status = a.head.mid(9, 3).toInt();
            const qsizetype length = a.header("Content-Length").toLongLong();
            if (buffer.size() >= end + 4 + length) {
                a.body = buffer.mid(end + 4, length);
                buffer.remove(0, end + 4 + length);
                return a;
            }
        }
        if (socket.bytesAvailable() == 0 && !socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
            return std::nullopt;
        buffer += socket.readAll();
    }
    return std::nullopt;
}

std::optional<HttpAnswer> get(const Endpoint &address, const QByteArray &target, const QString &ca = {})
{
    RawClient raw;
    if (!raw.connectTo(address, ca))
        return std::nullopt;
    raw.write("GET " + target + " HTTP/1.1\r\nHost: test\r\n\r\n");
    QByteArray buffer;
    return readAnswer(raw.socket(), buffer);
}

QJsonDocument json(const std::optional<HttpAnswer> &a)
{
    return a ? QJsonDocument::fromJson(a->body) : QJsonDocument();
}

// A server of Test::TestService on loopback (tcp unless said), a client of it.
struct Node
{
    explicit Node(RpcConfig config = {})
    {
        if (config.listen().isEmpty())
            config.setHost(QStringLiteral("127.0.0.1"));
        config.setMicroServiceId(QStringLiteral("test-service"));
        server = std::make_unique<RpcServer>(config);
        server->publish<Test::TestService>(&impl);
    }
    Endpoint address() const { return server->addresses().constFirst(); }
    Test::Gates gates;
    Test::TestServiceImpl impl{&gates};
    std::unique_ptr<RpcServer> server;
};

} // namespace

class tst_StatusServer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase_data() { addRows(); }
    void initTestCase() { setUp(); }
    void cleanupTestCase() { tearDown(); }
    void statusRequestsAndCallsShareEveryAddress();
    void theServicesPageDescribesEveryMethod();
    void theInvokerPageHasTomatoRpcsShapeWithStatistics();
    void metricsParseAsPrometheusTextAndMoveWithCalls();
    void readinessFollowsTheServersLife();
    void badAndSlowStatusClientsDisturbNoCall();
    void mangledRequestsGetAnAnswerOrACloseAndNothingElse();
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

void tst_StatusServer::theServicesPageDescribesEveryMethod()
{
    if (transport() != QLatin1String("tcp"))
        QSKIP("the page is the same on every transport: checked once, over tcp");
    Node node;
    QVERIFY(node.server->start());
    const QJsonArray services = json(get(node.address(), "/tomato/status/services")).array();
    QJsonObject test, introspection;
    for (const QJsonValue &s : services) {
        if (s[QLatin1String("service")].toString() == QLatin1String("Test::TestService"))
            test = s.toObject();
        if (s[QLatin1String("service")].toString() == QLatin1String("Tomato::Introspection"))
            introspection = s.toObject();
    }
    QCOMPARE(test.value(QStringLiteral("microServiceId")).toString(), QStringLiteral("test-service"));
    QCOMPARE(test.value(QStringLiteral("builtin")).toBool(), false);
    QCOMPARE(test.value(QStringLiteral("interfaceHash")).toString().size(), 12);
    QCOMPARE(introspection.value(QStringLiteral("builtin")).toBool(), true);
    QJsonObject add, touch;
    for (const QJsonValue &m : test.value(QStringLiteral("methods")).toArray()) {
        if (m[QLatin1String("name")].toString() == QLatin1String("add"))
            add = m.toObject();
        if (m[QLatin1String("name")].toString() == QLatin1String("touch"))
            touch = m.toObject();
    }
    QCOMPARE(add.value(QStringLiteral("signature")).toString(), QStringLiteral("add(int,int)"));
    QCOMPARE(add.value(QStringLiteral("returnType")).toString(), QStringLiteral("int"));
    const QJsonArray expected{QJsonObject{{QStringLiteral("name"), QStringLiteral("a")}, {QStringLiteral("type"), QStringLiteral("int")}},
                              QJsonObject{{QStringLiteral("name"), QStringLiteral("b")}, {QStringLiteral("type"), QStringLiteral("int")}}};
    QCOMPARE(add.value(QStringLiteral("arguments")).toArray(), expected);
    QCOMPARE(touch.value(QStringLiteral("returnType")).toString(), QStringLiteral("void"));
    // The application's services exclude the built-in one.
    QCOMPARE(node.server->services(), QStringList{QStringLiteral("Test::TestService")});
}

void tst_StatusServer::theInvokerPageHasTomatoRpcsShapeWithStatistics()
{
    if (transport() != QLatin1String("tcp"))
        QSKIP("the page is the same on every transport: checked once, over tcp");
    Node node;
    QVERIFY(node.server->start());
    RpcConfig config;
    config.setStage(QStringLiteral("dev"));
    config.setNameServiceUri(QStringLiteral("static://127.0.0.1:%1").arg(node.server->port()));
    RpcClient client(config);
    const auto registry = RegistryFactory().create(config);
    client.setRegistry(registry.get());
    auto stub = client.stub<Test::TestService>();
    for (int i = 0; i < 3; ++i)
        QCOMPARE(stub->add(i, 1), i + 1);
    QCOMPARE(codeOf([&] { stub->throwRuntimeError(QStringLiteral("x")); }), RpcError::ApplicationException);

    const auto page = get(node.address(), "/tomato/status/invoker?service-id=test-service");
    QVERIFY(page);
    QCOMPARE(page->status, 200);
    QCOMPARE(page->header("Content-Type"), QByteArray("application/json"));
    const QJsonArray stages = json(page).array();
    QCOMPARE(stages.size(), 1);
    QCOMPARE(stages.at(0).toObject().keys(), (QStringList{QStringLiteral("groups"), QStringLiteral("stage")}));
    QCOMPARE(stages.at(0)[QLatin1String("stage")].toString(), QStringLiteral("dev"));
    const QJsonObject groups = stages.at(0)[QLatin1String("groups")].toObject();
    QCOMPARE(groups.keys(), QStringList{QString()}); // a static registry announces no group
    const QJsonObject invoker = groups.value(QString()).toArray().at(0).toObject();
    // Tomato-RPC's fields, with its types.
    QCOMPARE(invoker.value(QStringLiteral("protocol")), QJsonValue(QStringLiteral("tomato")));
    QCOMPARE(invoker.value(QStringLiteral("host")), QJsonValue(QStringLiteral("127.0.0.1")));
    QCOMPARE(invoker.value(QStringLiteral("port")), QJsonValue(int(node.server->port())));
    QCOMPARE(invoker.value(QStringLiteral("microServiceId")), QJsonValue(QStringLiteral("test-service")));
    QCOMPARE(invoker.value(QStringLiteral("stage")), QJsonValue(QStringLiteral("dev")));
    QCOMPARE(invoker.value(QStringLiteral("group")), QJsonValue(QString()));
    // ... first, in its order, in the bytes themselves.
    const QByteArray body = page->body;
    qsizetype at = 0;
    for (const char *key : {"\"protocol\"", "\"host\"", "\"port\"", "\"microServiceId\"", "\"stage\"", "\"group\"", "\"address\""}) {
        const qsizetype next = body.indexOf(key, at);
        QVERIFY2(next > at, key);
        at = next;
    }
    // Then the statistics.
    QCOMPARE(invoker.value(QStringLiteral("calls")).toInt(), 4);
    QCOMPARE(invoker.value(QStringLiteral("errors")).toInt(), 1);
    QCOMPARE(invoker.value(QStringLiteral("errorsByCode")).toObject().value(QStringLiteral("ApplicationException")).toInt(), 1);
    QCOMPARE(invoker.value(QStringLiteral("connected")).toBool(), true);
    QCOMPARE(invoker.value(QStringLiteral("circuit")).toString(), QStringLiteral("closed"));
    QCOMPARE(invoker.value(QStringLiteral("inFlight")).toInt(), 0);
    QVERIFY(invoker.value(QStringLiteral("p99Ms")).toDouble() >= invoker.value(QStringLiteral("p50Ms")).toDouble());
    QVERIFY(invoker.value(QStringLiteral("p50Ms")).toDouble() > 0);
    QCOMPARE(invoker.value(QStringLiteral("weight")).toInt(), 100);
    // Another service's page is empty; without service-id every service shows.
    QCOMPARE(json(get(node.address(), "/tomato/status/invoker?service-id=other")).array(), QJsonArray());
    QCOMPARE(json(get(node.address(), "/tomato/status/invoker")).array().size(), 1);
    client.setRegistry(nullptr);
}

void tst_StatusServer::metricsParseAsPrometheusTextAndMoveWithCalls()
{
    if (transport() != QLatin1String("tcp"))
        QSKIP("the page is the same on every transport: checked once, over tcp");
    Node node;
    QVERIFY(node.server->start());
    RpcClient client;
    auto stub = client.createDirectStub<Test::TestService>(node.address());
    QCOMPARE(stub->add(1, 1), 2); // the series exist from here on
    auto scrape = [&] {
        const auto page = get(node.address(), "/metrics");
        if (!page || page->status != 200)
            return PrometheusText{{}, {}, {}, QStringLiteral("no page")};
        if (page->header("Content-Type") != QByteArray("text/plain; version=0.0.4; charset=utf-8"))
            return PrometheusText{{}, {}, {}, QStringLiteral("content type ") + QString::fromLatin1(page->header("Content-Type"))};
        return PrometheusText::parse(page->body);
    };
    const PrometheusText before = scrape();
    QVERIFY2(before.error.isEmpty(), qPrintable(before.error));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(stub->add(i, i), 2 * i);
    QCOMPARE(codeOf([&] { stub->throwRuntimeError(QStringLiteral("x")); }), RpcError::ApplicationException);
    QTRY_COMPARE(node.server->stats().callsInFlight(), 0);
    const PrometheusText after = scrape();
    QVERIFY2(after.error.isEmpty(), qPrintable(after.error));

    const QMap<QString, QString> addOk{{QStringLiteral("service"), QStringLiteral("Test::TestService")},
                                       {QStringLiteral("method"), QStringLiteral("add")},
                                       {QStringLiteral("code"), QStringLiteral("Ok")}};
    QCOMPARE(after.value(QStringLiteral("tomato_server_calls_total"), addOk)
                 - before.value(QStringLiteral("tomato_server_calls_total"), addOk), 5.0);
    QCOMPARE(after.value(QStringLiteral("tomato_server_calls_total"),
                         {{QStringLiteral("service"), QStringLiteral("Test::TestService")},
                          {QStringLiteral("method"), QStringLiteral("throwRuntimeError")},
                          {QStringLiteral("code"), QStringLiteral("ApplicationException")}}),
             1.0);
    QCOMPARE(after.types.value(QStringLiteral("tomato_server_calls_total")), QStringLiteral("counter"));
    QCOMPARE(after.types.value(QStringLiteral("tomato_server_call_duration_seconds")), QStringLiteral("histogram"));
    // The histogram of add: cumulative buckets, +Inf equal to the count, which moved by 5.
    const QMap<QString, QString> add{{QStringLiteral("service"), QStringLiteral("Test::TestService")},
                                     {QStringLiteral("method"), QStringLiteral("add")}};
    double last = 0;
    int buckets = 0;
    for (const auto &s : after.samples) {
        if (s.name != QLatin1String("tomato_server_call_duration_seconds_bucket")
            || s.labels.value(QStringLiteral("method")) != QLatin1String("add"))
            continue;
        QVERIFY(s.value >= last);
        last = s.value;
        ++buckets;
    }
    QCOMPARE(buckets, 17);
    QMap<QString, QString> inf = add;
    inf.insert(QStringLiteral("le"), QStringLiteral("+Inf"));
    QCOMPARE(after.value(QStringLiteral("tomato_server_call_duration_seconds_bucket"), inf),
             after.value(QStringLiteral("tomato_server_call_duration_seconds_count"), add));
    QCOMPARE(after.value(QStringLiteral("tomato_server_call_duration_seconds_count"), add)
                 - before.value(QStringLiteral("tomato_server_call_duration_seconds_count"), add), 5.0);
    QVERIFY(after.value(QStringLiteral("tomato_server_call_duration_seconds_sum"), add) > 0);
    QVERIFY(after.value(QStringLiteral("tomato_server_received_bytes_total"))
            > before.value(QStringLiteral("tomato_server_received_bytes_total")));
    QVERIFY(after.value(QStringLiteral("tomato_server_sent_bytes_total"))
            > before.value(QStringLiteral("tomato_server_sent_bytes_total")));
    QCOMPARE(after.value(QStringLiteral("tomato_server_connections")), 1.0);
    QCOMPARE(after.value(QStringLiteral("tomato_ready")), 1.0);
    // The client's side of the process: its invoker of the direct stub is not a cluster
    // invoker, so no client series; the families that are there all have help.
    for (auto it = after.types.cbegin(); it != after.types.cend(); ++it)
        QVERIFY2(!after.help.value(it.key()).isEmpty(), qPrintable(it.key()));
}

void tst_StatusServer::readinessFollowsTheServersLife()
{
    if (transport() != QLatin1String("tcp"))
        QSKIP("readiness is the same on every transport: checked once, over tcp");
    // The status port stays up across the server's stop: probes see it drain.
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost));
    const quint16 statusPort = probe.serverPort();
    probe.close();
    RpcConfig config;
    config.setStatusPort(statusPort);
    config.setHost(QStringLiteral("127.0.0.1"));
    Node node(config);
    const Endpoint status(QStringLiteral("tcp"), QStringLiteral("127.0.0.1"), statusPort);
    QVERIFY(!get(status, "/tomato/status/ready")); // nothing listens before start()
    QVERIFY(node.server->start());
    auto ready = get(status, "/tomato/status/ready");
    QVERIFY(ready);
    QCOMPARE(ready->status, 200);
    QCOMPARE(ready->body, QByteArray("ready\n"));
    node.server->stop();
    ready = get(status, "/tomato/status/ready");
    QVERIFY(ready);
    QCOMPARE(ready->status, 503);
    QCOMPARE(ready->body, QByteArray("draining\n"));
    QCOMPARE(get(status, "/tomato/status/live")->status, 200);
    QCOMPARE(json(get(status, "/tomato/status/node")).object().value(QStringLiteral("readiness")).toString(),
             QStringLiteral("draining"));
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

// Requests mangled at random (a fixed seed: the same every run): bytes flipped, cut, repeated,
// inserted. Each gets an HTTP answer or a closed connection within its deadline; the server
// (under the sanitizers in CI) neither crashes nor stops answering calls.
void tst_StatusServer::mangledRequestsGetAnAnswerOrACloseAndNothingElse()
{
    if (transport() != QLatin1String("tcp"))
        QSKIP("the parser is the same on every transport: checked once, over tcp");
    RpcConfig config;
    config.setHost(QStringLiteral("127.0.0.1"));
    config.setStatusRequestTimeoutMs(200);
    Node node(config);
    QVERIFY(node.server->start());
    const QByteArray valid = "GET /tomato/status/invoker?service-id=a%20b HTTP/1.1\r\nHost: x\r\n"
                             "Accept: */*\r\nConnection: keep-alive\r\n\r\n";
    QRandomGenerator random(20261202);
    for (int round = 0; round < 150; ++round) {
        QByteArray bytes = valid.repeated(1 + random.bounded(3));
        for (int edits = 1 + random.bounded(6); edits > 0 && bytes.size() > 2; --edits) {
            const int at = 1 + random.bounded(int(bytes.size()) - 1); // the first byte stays a letter
            switch (random.bounded(4)) {
            case 0: bytes[at] = char(random.bounded(256)); break;
            case 1: bytes.truncate(at); break;
            case 2: bytes.insert(at, bytes.mid(random.bounded(at), random.bounded(40))); break;
            default: bytes.insert(at, char(random.bounded(256))); break;
            }
        }
        RawClient raw;
        QVERIFY(raw.connectTo(node.address()));
        raw.write(bytes);
        QByteArray buffer;
        const auto answer = readAnswer(raw.socket(), buffer, 3000);
        QVERIFY2(answer || raw.waitForClose(3000), bytes.toPercentEncoding().constData());
        if (answer)
            QVERIFY2(answer->status >= 200 && answer->status < 600, answer->head.constData());
    }
    RpcClient client;
    auto stub = client.createDirectStub<Test::TestService>(node.address());
    QCOMPARE(stub->add(20, 22), 42);
    QCOMPARE(node.server->stats().protocolErrors(), quint64(0));
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
