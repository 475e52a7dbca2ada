// SPDX-License-Identifier: Apache-2.0
// The status pages of a real RpcServer over tcp (docs/STATUS.md; the transport does not change
// them: tst_statusserver covers every transport): the services page, the invoker page in
// Tomato-RPC's shape with statistics, Prometheus metrics that parse and move with calls,
// readiness through a server's life, and requests mangled at random.
#include "prometheustext.h"
#include "rpcerrorof.h"
#include "statusnode.h"
#include "testservice_stub.h"

#include <tomato/client/rpcclient.h>
#include <tomato/registry/registryfactory.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QRandomGenerator>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

using namespace Tomato;
using namespace StatusTest;

class tst_StatusPages : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void theServicesPageDescribesEveryMethod();
    void theInvokerPageHasTomatoRpcsShapeWithStatistics();
    void metricsParseAsPrometheusTextAndMoveWithCalls();
    void theStatisticsPageCountsEachMethodWithItsLatencyBuckets();
    void readinessFollowsTheServersLife();
    void mangledRequestsGetAnAnswerOrACloseAndNothingElse();
};

void tst_StatusPages::theServicesPageDescribesEveryMethod()
{
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

void tst_StatusPages::theInvokerPageHasTomatoRpcsShapeWithStatistics()
{
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

void tst_StatusPages::metricsParseAsPrometheusTextAndMoveWithCalls()
{
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
    // The answer can reach us before the server has counted the call: wait until it has.
    QTRY_COMPARE(node.server->stats().callsInFlight(), 0);
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

// The page a dashboard polls: per method its calls by code and the latency histogram (not
// cumulative) whose deltas give a p99 over any interval.
void tst_StatusPages::theStatisticsPageCountsEachMethodWithItsLatencyBuckets()
{
    Node node;
    QVERIFY(node.server->start());
    RpcClient client;
    auto stub = client.createDirectStub<Test::TestService>(node.address());
    for (int i = 0; i < 5; ++i)
        QCOMPARE(stub->add(i, 1), i + 1);
    QCOMPARE(stub->echo(QStringLiteral("x")), QStringLiteral("x"));
    const auto page = get(node.address(), "/tomato/status/statistics");
    QVERIFY(page);
    QCOMPARE(page->status, 200);
    const QJsonObject stats = json(*page).object();
    const QJsonArray bounds = stats.value(QStringLiteral("latencyBoundsMs")).toArray();
    QCOMPARE(bounds.size(), 16);
    QCOMPARE(bounds.first().toDouble(), 0.1);
    QCOMPARE(bounds.last().toDouble(), 10000.0);
    for (qsizetype i = 1; i < bounds.size(); ++i)
        QVERIFY(bounds[i].toDouble() > bounds[i - 1].toDouble());
    QHash<QString, QJsonObject> methods;
    for (const QJsonValue &m : stats.value(QStringLiteral("methods")).toArray())
        methods.insert(m[QLatin1String("method")].toString(), m.toObject());
    for (const auto &[method, calls] : {std::pair{QStringLiteral("add"), 5}, std::pair{QStringLiteral("echo"), 1},
                                        std::pair{QStringLiteral("touch"), 0}}) {
        const QJsonObject m = methods.value(method);
        QCOMPARE(m.value(QStringLiteral("calls")).toInt(), calls);
        QCOMPARE(m.value(QStringLiteral("byCode")).toObject().value(QStringLiteral("Ok")).toInt(), calls);
        const QJsonArray buckets = m.value(QStringLiteral("latencyBuckets")).toArray();
        QCOMPARE(buckets.size(), bounds.size() + 1); // the last one is +Inf
        int counted = 0;
        for (const QJsonValue &b : buckets)
            counted += b.toInt();
        QCOMPARE(counted, calls);
    }
}

void tst_StatusPages::readinessFollowsTheServersLife()
{
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

// Requests mangled at random (a fixed seed: the same every run): bytes flipped, cut, repeated,
// inserted. Each gets an HTTP answer or a closed connection within its deadline; the server
// (under the sanitizers in CI) neither crashes nor stops answering calls.
void tst_StatusPages::mangledRequestsGetAnAnswerOrACloseAndNothingElse()
{
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

QTEST_GUILESS_MAIN(tst_StatusPages)
#include "tst_statuspages.moc"
