// SPDX-License-Identifier: Apache-2.0
// The `tomato` command line (docs/CLI.md), run as a process against a real ZooKeeper and real
// sample servers in dev/main, dev/gray and prod/main: every command, its output and its exit
// code, mistakes included.
#include "sampleserver.h"
#include "zookeeperserver.h"

#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <zookeeper/zookeeper.h>

using namespace Tomato;

namespace {

const QString Service = QStringLiteral("demo-rpc-service");

// One finished run of the tool.
struct Run
{
    int exitCode = -1;
    QString out;
    QString err;
    // For failure messages.
    QByteArray show() const { return QStringLiteral("exit %1\nstdout:\n%2\nstderr:\n%3").arg(exitCode).arg(out, err).toUtf8(); }
    QJsonValue json() const
    {
        const QJsonDocument d = QJsonDocument::fromJson('[' + out.toUtf8() + ']');
        return d.array().at(0);
    }
};

// The tool's environment: the test's, without a registry unless given.
QProcessEnvironment environment(const QString &nameServiceUri = {})
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("TOMATO_NAME_SERVICE_URI"));
    if (!nameServiceUri.isEmpty())
        env.insert(QStringLiteral("TOMATO_NAME_SERVICE_URI"), nameServiceUri);
    return env;
}

void startTool(QProcess &process, const QStringList &arguments, const QProcessEnvironment &env = environment())
{
    process.setProcessEnvironment(env);
    process.start(QStringLiteral(TOMATO_CLI), arguments);
}

Run tomato(const QStringList &arguments, const QProcessEnvironment &env = environment())
{
    QProcess process;
    startTool(process, arguments, env);
    Run run;
    if (!process.waitForFinished(30000)) {
        process.kill();
        process.waitForFinished();
        run.err = QStringLiteral("did not finish within 30 s: ");
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err += QString::fromUtf8(process.readAllStandardError());
    return run;
}

// Reads a running tool's output until `text` is in it or the deadline passes.
bool waitForText(QProcess &process, QProcess::ProcessChannel channel, QString *seen, const QString &text, int ms = 15000)
{
    QDeadlineTimer deadline(ms);
    process.setReadChannel(channel);
    while (!seen->contains(text) && !deadline.hasExpired()) {
        process.waitForReadyRead(int(qMax<qint64>(1, qMin<qint64>(100, deadline.remainingTime()))));
        *seen += QString::fromUtf8(channel == QProcess::StandardOutput ? process.readAllStandardOutput()
                                                                       : process.readAllStandardError());
    }
    return seen->contains(text);
}

// A mistake or a failure: one line on stderr, naming what went wrong, and the exit code.
void checkOneLineError(const Run &r, int exitCode, const QString &mentions)
{
    QVERIFY2(r.exitCode == exitCode, r.show());
    QVERIFY2(r.err.startsWith(QLatin1String("tomato: ")) && r.err.count(QLatin1Char('\n')) == 1, r.show());
    QVERIFY2(r.err.contains(mentions, Qt::CaseInsensitive), r.show());
}

} // namespace

class tst_Cli : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void helpOfEveryCommandAndVersion();
    void mistakesAreOneLineAndExitCode2_data();
    void mistakesAreOneLineAndExitCode2();
    void listShowsServicesStagesInstancesAndConsumers();
    void listJsonForScripts();
    void describeByAddressAndByServiceId();
    void callThroughTheRegistryAndByAddress();
    void callFailuresSayWhatAndExitDistinctly();
    void watchPrintsInstancesComingAndGoing();
    void watchJsonAndSigterm();
    void statusSummarisesANode();
    void overrideWeightThenClear();
    void anUnreachableRegistryExits3();

private:
    QString zk() const { return m_zk->hosts(); }
    SampleServer &server(int i) { return *m_servers.at(i); } // 0 dev/main, 1 dev/gray, 2 prod/main
    QString hostPort(int i) { return QStringLiteral("127.0.0.1:%1").arg(server(i).port()); }

    std::unique_ptr<ZooKeeperServer> m_zk;
    std::vector<std::unique_ptr<SampleServer>> m_servers;
    std::unique_ptr<ZooKeeperRegistry> m_registry; // a consumer of the service, and our view of the tree
};

void tst_Cli::initTestCase()
{
    zoo_set_debug_level(ZooLogLevel(0));
    m_zk = std::make_unique<ZooKeeperServer>();
    QVERIFY2(m_zk->start(), qPrintable(m_zk->log()));
    for (const auto &[stage, group] : {std::pair("dev", "main"), std::pair("dev", "gray"), std::pair("prod", "main")}) {
        m_servers.push_back(std::make_unique<SampleServer>(zk(), QString::fromLatin1(stage), QString::fromLatin1(group)));
        QVERIFY(m_servers.back()->port() != 0);
    }
    m_registry = std::make_unique<ZooKeeperRegistry>(zk());
    ConsumerInfo consumer;
    consumer.microServiceId = Service;
    consumer.stage = QStringLiteral("dev");
    consumer.group = QStringLiteral("main");
    consumer.host = QStringLiteral("10.1.2.3");
    consumer.pid = 4242;
    consumer.version = QStringLiteral("0.1.0");
    consumer.application = QStringLiteral("tst-cli-consumer");
    QSignalSpy registered(m_registry.get(), &ZooKeeperRegistry::registered);
    m_registry->registerConsumer(consumer);
    m_registry->start();
    QVERIFY(registered.wait(10000));
    m_registry->subscribe(Service, QStringLiteral("dev"));
    m_registry->subscribe(Service, QStringLiteral("prod"));
    QTRY_COMPARE_WITH_TIMEOUT(m_registry->instances(Service, QStringLiteral("dev")).size(), 2, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(m_registry->instances(Service, QStringLiteral("prod")).size(), 1, 15000);
}

void tst_Cli::cleanupTestCase()
{
    m_registry.reset();
    m_servers.clear();
    m_zk.reset();
}

void tst_Cli::helpOfEveryCommandAndVersion()
{
    const Run help = tomato({QStringLiteral("--help")});
    QVERIFY2(help.exitCode == 0 && help.err.isEmpty(), help.show());
    for (const char *text : {"Usage: tomato", "list", "describe", "call", "watch", "status", "override", "--name-service-uri",
                             "--json", "--timeout", "--stage", "--group", "Exit codes:", "  3  no answer",
                             "TOMATO_NAME_SERVICE_URI"})
        QVERIFY2(help.out.contains(QLatin1String(text)), text);
    for (const char *command : {"list", "describe", "call", "watch", "status", "override"}) {
        const Run a = tomato({QStringLiteral("help"), QLatin1String(command)});
        const Run b = tomato({QLatin1String(command), QStringLiteral("--help")});
        QVERIFY2(a.exitCode == 0 && a.out.startsWith(QStringLiteral("Usage: tomato [options] %1").arg(QLatin1String(command))),
                 a.show());
        QCOMPARE(b.out, a.out);
        QCOMPARE(b.exitCode, 0);
    }
    QVERIFY(tomato({QStringLiteral("help"), QStringLiteral("call")}).out.contains(QLatin1String("--trace-id")));
    QVERIFY(tomato({QStringLiteral("help"), QStringLiteral("override")}).out.contains(QLatin1String("--weight <N>")));
    const Run version = tomato({QStringLiteral("--version")});
    QVERIFY2(version.exitCode == 0 && version.out.startsWith(QLatin1String("tomato 0.1.0")), version.show());
}

void tst_Cli::mistakesAreOneLineAndExitCode2_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("mentions");
    const QString a = QStringLiteral("127.0.0.1:1");
    QTest::newRow("no command") << QStringList() << QStringLiteral("no command");
    QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << QStringLiteral("unknown command 'frobnicate'");
    QTest::newRow("help of nothing") << QStringList{QStringLiteral("help"), QStringLiteral("nope")} << QStringLiteral("no command 'nope'");
    QTest::newRow("unknown option") << QStringList{QStringLiteral("list"), QStringLiteral("--bogus")} << QStringLiteral("bogus");
    QTest::newRow("missing argument") << QStringList{QStringLiteral("call"), a} << QStringLiteral("missing arguments");
    QTest::newRow("extra argument") << QStringList{QStringLiteral("status"), a, QStringLiteral("x")} << QStringLiteral("unexpected argument 'x'");
    QTest::newRow("no method") << QStringList{QStringLiteral("call"), a, QStringLiteral("echo")} << QStringLiteral("Service.method");
    QTest::newRow("malformed JSON") << QStringList{QStringLiteral("call"), a, QStringLiteral("Sample::EchoService.echo"), QStringLiteral("[1,")}
                                    << QStringLiteral("JSON");
    QTest::newRow("bare word") << QStringList{QStringLiteral("call"), a, QStringLiteral("Sample::EchoService.echo"), QStringLiteral("hello")}
                               << QStringLiteral("malformed JSON arguments 'hello'");
    QTest::newRow("bad context") << QStringList{QStringLiteral("call"), a, QStringLiteral("S.m"), QStringLiteral("--context"), QStringLiteral("novalue")}
                                 << QStringLiteral("key=value");
    QTest::newRow("bad timeout") << QStringList{QStringLiteral("list"), QStringLiteral("--timeout"), QStringLiteral("soon")} << QStringLiteral("--timeout");
    QTest::newRow("bad address") << QStringList{QStringLiteral("describe"), QStringLiteral("tcp://127.0.0.1")} << QStringLiteral("not an address");
    QTest::newRow("status of a service id") << QStringList{QStringLiteral("status"), Service} << QStringLiteral("not an address");
    QTest::newRow("no registry") << QStringList{QStringLiteral("list")} << QStringLiteral("no registry");
    QTest::newRow("registry of another scheme") << QStringList{QStringLiteral("list"), QStringLiteral("--name-service-uri"), QStringLiteral("static://127.0.0.1:1")}
                                                << QStringLiteral("reads ZooKeeper");
    QTest::newRow("override without a change") << QStringList{QStringLiteral("override"), Service, a} << QStringLiteral("--weight");
    QTest::newRow("override weight out of range")
        << QStringList{QStringLiteral("override"), Service, a, QStringLiteral("--weight"), QStringLiteral("0")} << QStringLiteral("1 to 1000");
    QTest::newRow("override both ways") << QStringList{QStringLiteral("override"), Service, a, QStringLiteral("--disable"), QStringLiteral("--enable")}
                                        << QStringLiteral("not both");
    QTest::newRow("watch count") << QStringList{QStringLiteral("watch"), Service, QStringLiteral("--count"), QStringLiteral("-1")}
                                 << QStringLiteral("--count");
}

void tst_Cli::mistakesAreOneLineAndExitCode2()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, mentions);
    const Run r = tomato(arguments);
    checkOneLineError(r, 2, mentions);
    QVERIFY2(r.out.isEmpty(), r.show());
}

void tst_Cli::listShowsServicesStagesInstancesAndConsumers()
{
    // The registry from the environment this time.
    const Run r = tomato({QStringLiteral("list")}, environment(zk()));
    QVERIFY2(r.exitCode == 0 && r.err.isEmpty(), r.show());
    QVERIFY2(r.out.startsWith(QLatin1String("instances:\n  SERVICE           STAGE  GROUP  ADDRESS")), r.show());
    const char *const rows[] = {"dev\\s+main", "dev\\s+gray", "prod\\s+main"};
    for (int i = 0; i < 3; ++i) {
        // ... and the release each runs (the VERSION column).
        const QRegularExpression row(QStringLiteral("\n  demo-rpc-service\\s+%1\\s+tcp://%2\\s+100\\s+20\\d\\d-[-0-9T:]+Z\\s+%3\\s+-\n")
                                         .arg(QLatin1String(rows[i]), QRegularExpression::escape(hostPort(i)),
                                              QRegularExpression::escape(QStringLiteral(TOMATO_VERSION_TEXT))));
        QVERIFY2(row.match(r.out).hasMatch(), r.show());
    }
    QVERIFY2(QRegularExpression(QStringLiteral("consumers:\n  SERVICE +STAGE +GROUP +HOST +PID +APPLICATION +VERSION\n"
                                               "  demo-rpc-service +dev +main +10\\.1\\.2\\.3 +4242 +tst-cli-consumer +0\\.1\\.0\n"))
                 .match(r.out)
                 .hasMatch(),
             r.show());

    const Run prod = tomato({QStringLiteral("list"), QStringLiteral("--stage"), QStringLiteral("prod"),
                             QStringLiteral("--name-service-uri"), zk()});
    QVERIFY2(prod.exitCode == 0 && prod.out.contains(hostPort(2)) && !prod.out.contains(hostPort(0)), prod.show());
    QVERIFY2(prod.out.contains(QLatin1String("consumers:\n  (none)")), prod.show());
    const Run gray = tomato({QStringLiteral("list"), QStringLiteral("--group"), QStringLiteral("gray"),
                             QStringLiteral("--name-service-uri"), zk()});
    QVERIFY2(gray.exitCode == 0 && gray.out.contains(hostPort(1)) && !gray.out.contains(hostPort(0))
                 && !gray.out.contains(hostPort(2)),
             gray.show());
}

void tst_Cli::listJsonForScripts()
{
    const Run r = tomato({QStringLiteral("--json"), QStringLiteral("list"), QStringLiteral("--name-service-uri"), zk()});
    QVERIFY2(r.exitCode == 0 && r.out.count(QLatin1Char('\n')) == 1, r.show());
    // Sorted by service id and stage: dev, prod (and a stage a client looked in, without providers).
    const QJsonArray entries = r.json().toArray();
    QVERIFY2(entries.size() >= 2, r.show());
    const QJsonObject dev = entries.at(0).toObject();
    QCOMPARE(dev.value(QLatin1String("microServiceId")).toString(), Service);
    QCOMPARE(dev.value(QLatin1String("stage")).toString(), QStringLiteral("dev"));
    QCOMPARE(entries.at(1).toObject().value(QLatin1String("stage")).toString(), QStringLiteral("prod"));
    QSet<int> ports;
    for (const QJsonValue &p : dev.value(QLatin1String("providers")).toArray()) {
        ports.insert(p.toObject().value(QLatin1String("port")).toInt());
        QVERIFY(p.toObject().value(QLatin1String("override")).isNull());
    }
    QCOMPARE(ports, (QSet<int>{server(0).port(), server(1).port()}));
    const QJsonArray consumers = dev.value(QLatin1String("consumers")).toArray();
    QCOMPARE(consumers.size(), 1);
    QCOMPARE(consumers.at(0).toObject().value(QLatin1String("application")).toString(), QStringLiteral("tst-cli-consumer"));
}

void tst_Cli::describeByAddressAndByServiceId()
{
    const QStringList signatures = {QStringLiteral("Sample::EchoService  micro-service demo-rpc-service"),
                                    QStringLiteral("  QString echo(QString message)  idempotent"),
                                    QStringLiteral("Sample::DemoService  micro-service demo-rpc-service"),
                                    QStringLiteral("  int sum(QList<int> values)"),
                                    QStringLiteral("  int divide(int dividend, int divisor)"),
                                    QStringLiteral("  Sample::DemoRequest normalize(Sample::DemoRequest request)"),
                                    QStringLiteral("Tomato::Introspection  (built in)")};
    const QList<QStringList> targets = {
        {server(0).address()},
        {hostPort(2)},
        {Service, QStringLiteral("--stage"), QStringLiteral("dev"), QStringLiteral("--group"), QStringLiteral("gray"),
         QStringLiteral("--name-service-uri"), zk()}};
    for (const QStringList &target : targets) {
        const Run r = tomato(QStringList{QStringLiteral("describe")} + target);
        QVERIFY2(r.exitCode == 0 && r.err.isEmpty(), r.show());
        for (const QString &s : signatures)
            QVERIFY2(r.out.contains(s), qPrintable(s + QLatin1Char('\n') + QString::fromUtf8(r.show())));
    }
    const Run one = tomato({QStringLiteral("describe"), hostPort(0), QStringLiteral("Sample::EchoService"), QStringLiteral("--json")});
    QVERIFY2(one.exitCode == 0, one.show());
    const QJsonArray services = one.json().toArray();
    QCOMPARE(services.size(), 1);
    QCOMPARE(services.at(0).toObject().value(QLatin1String("service")).toString(), QStringLiteral("Sample::EchoService"));
    checkOneLineError(tomato({QStringLiteral("describe"), hostPort(0), QStringLiteral("Sample::Nothing")}), 1,
                      QStringLiteral("publishes no Sample::Nothing"));
}

void tst_Cli::callThroughTheRegistryAndByAddress()
{
    const QStringList registry = {QStringLiteral("--name-service-uri"), zk()};
    const Run gray = tomato(QStringList{QStringLiteral("call"), Service, QStringLiteral("Sample::EchoService.echo"),
                                        QStringLiteral("\"hi\""), QStringLiteral("--stage"), QStringLiteral("dev"),
                                        QStringLiteral("--group"), QStringLiteral("gray")}
                            + registry);
    QVERIFY2(gray.exitCode == 0 && gray.err.isEmpty(), gray.show());
    QCOMPARE(gray.json().toString(), QStringLiteral("[%1 demo-rpc-service stage=dev group=gray] hi").arg(hostPort(1)));
    const Run prod = tomato(QStringList{QStringLiteral("call"), Service, QStringLiteral("Sample::EchoService.echo"),
                                        QStringLiteral("[\"hi\"]"), QStringLiteral("--stage"), QStringLiteral("prod"),
                                        QStringLiteral("--group"), QStringLiteral("main")}
                            + registry);
    QVERIFY2(prod.exitCode == 0 && prod.out.contains(hostPort(2)), prod.show());

    for (const QString &address : {server(0).address(), hostPort(0)}) {
        const Run echo = tomato({QStringLiteral("call"), address, QStringLiteral("Sample::EchoService.echo"), QStringLiteral("\"x\""),
                                 QStringLiteral("--context"), QStringLiteral("user=ann"), QStringLiteral("--trace-id"),
                                 QStringLiteral("trace-1")});
        QVERIFY2(echo.exitCode == 0 && echo.out.endsWith(QLatin1String("group=main] x\"\n")), echo.show());
    }
    const Run sum = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.sum"), QStringLiteral("[[1, 2, 3]]")});
    QVERIFY2(sum.exitCode == 0 && sum.out == QLatin1String("6\n"), sum.show());
    // One object: the only argument. Printed indented for people, compact with --json.
    const QString request = QStringLiteral(R"({"text": "t", "numbers": [3, 1, 2], "attributes": []})");
    const Run pretty = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.normalize"), request});
    QVERIFY2(pretty.exitCode == 0 && pretty.out.count(QLatin1Char('\n')) > 5, pretty.show());
    QCOMPARE(pretty.json().toObject().value(QLatin1String("numbers")).toArray(), (QJsonArray{1, 2, 3}));
    const Run compact = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.normalize"), request,
                                QStringLiteral("--json")});
    QVERIFY2(compact.exitCode == 0 && compact.out.count(QLatin1Char('\n')) == 1, compact.show());
    QCOMPARE(compact.json(), pretty.json());
    // A void method; no arguments.
    const Run notify = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.notify"), QStringLiteral("\"e\"")});
    QVERIFY2(notify.exitCode == 0 && notify.out == QLatin1String("null\n"), notify.show());
    const Run count = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.notifications")});
    QVERIFY2(count.exitCode == 0 && count.json().toInt() >= 1, count.show());
}

void tst_Cli::callFailuresSayWhatAndExitDistinctly()
{
    const Run divide = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.divide"), QStringLiteral("[1, 0]")});
    checkOneLineError(divide, 1, QStringLiteral("ApplicationException (205): std::domain_error: division by zero"));
    QVERIFY2(divide.out.isEmpty(), divide.show());
    const Run json = tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.divide"), QStringLiteral("[1, 0]"),
                             QStringLiteral("--json")});
    QCOMPARE(json.exitCode, 1);
    const QJsonObject error = json.json().toObject().value(QLatin1String("error")).toObject();
    QCOMPARE(error.value(QLatin1String("code")).toInt(), 205);
    QCOMPARE(error.value(QLatin1String("type")).toString(), QStringLiteral("std::domain_error"));
    QCOMPARE(error.value(QLatin1String("message")).toString(), QStringLiteral("division by zero"));

    checkOneLineError(tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.modulo"), QStringLiteral("[1, 0]")}),
                      1, QStringLiteral("UnknownMethod (201)"));
    checkOneLineError(tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.sum"), QStringLiteral("\"abc\"")}),
                      1, QStringLiteral("BadArguments (202)"));
    checkOneLineError(tomato({QStringLiteral("call"), hostPort(0), QStringLiteral("Sample::DemoService.sum"), QStringLiteral("[1,")}),
                      2, QStringLiteral("JSON"));
    // Nobody listens there.
    const QString nowhere = QStringLiteral("tcp://127.0.0.1:%1").arg(ZooKeeperServer::freePort());
    checkOneLineError(tomato({QStringLiteral("call"), nowhere, QStringLiteral("Sample::EchoService.echo"), QStringLiteral("\"x\"")}), 3,
                      QStringLiteral("ConnectFailed (103)"));
    // No instance in that stage.
    checkOneLineError(tomato({QStringLiteral("call"), Service, QStringLiteral("Sample::EchoService.echo"), QStringLiteral("\"x\""),
                              QStringLiteral("--stage"), QStringLiteral("test"), QStringLiteral("--name-service-uri"), zk()}),
                      3, QStringLiteral("no provider of demo-rpc-service in test/default"));
}

void tst_Cli::watchPrintsInstancesComingAndGoing()
{
    QProcess watch;
    startTool(watch, {QStringLiteral("watch"), Service, QStringLiteral("--stage"), QStringLiteral("dev"), QStringLiteral("--count"),
                      QStringLiteral("2"), QStringLiteral("--name-service-uri"), zk()});
    QString err, out;
    QVERIFY2(waitForText(watch, QProcess::StandardError, &err, QStringLiteral("watching demo-rpc-service in dev")), qPrintable(err));
    // What is there, before it said it watches.
    QVERIFY2(waitForText(watch, QProcess::StandardOutput, &out, QStringLiteral("= tcp://%1 dev/main weight 100\n").arg(hostPort(0))),
             qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("= tcp://%1 dev/gray weight 100\n").arg(hostPort(1))), qPrintable(out));

    auto extra = std::make_unique<SampleServer>(zk(), QStringLiteral("dev"), QStringLiteral("main"));
    const QString line = QStringLiteral("tcp://127.0.0.1:%1 dev/main weight 100\n").arg(extra->port());
    QVERIFY2(waitForText(watch, QProcess::StandardOutput, &out, QStringLiteral("+ ") + line), qPrintable(out));
    extra->terminate(); // unregisters first
    QVERIFY2(waitForText(watch, QProcess::StandardOutput, &out, QStringLiteral("- ") + line), qPrintable(out));
    QVERIFY(watch.waitForFinished(10000)); // --count 2
    QCOMPARE(watch.exitStatus(), QProcess::NormalExit);
    QCOMPARE(watch.exitCode(), 0);
    out += QString::fromUtf8(watch.readAllStandardOutput());
    QCOMPARE(out.count(QLatin1Char('\n')), 4);
}

void tst_Cli::watchJsonAndSigterm()
{
    QProcess watch;
    startTool(watch, {QStringLiteral("watch"), Service, QStringLiteral("--json"), QStringLiteral("--name-service-uri"), zk()});
    QString err, out;
    // Every stage the service has, in order: dev and prod (and "test", which a call above looked
    // in, left without instances).
    QVERIFY2(waitForText(watch, QProcess::StandardError, &err, QStringLiteral("watching demo-rpc-service in dev, prod")), qPrintable(err));
    for (int i = 0; i < 3; ++i)
        QVERIFY2(waitForText(watch, QProcess::StandardOutput, &out, hostPort(i)), qPrintable(out));
    const QStringList lines = out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    QSet<int> ports;
    for (const QString &line : lines) {
        const QJsonObject event = QJsonDocument::fromJson(line.toUtf8()).object();
        QCOMPARE(event.value(QLatin1String("event")).toString(), QStringLiteral("present"));
        QCOMPARE(event.value(QLatin1String("microServiceId")).toString(), Service);
        ports.insert(event.value(QLatin1String("address")).toString().section(QLatin1Char(':'), -1).toInt());
    }
    QCOMPARE(ports, (QSet<int>{server(0).port(), server(1).port(), server(2).port()}));
    watch.terminate(); // SIGTERM: a normal end
    QVERIFY(watch.waitForFinished(10000));
    QCOMPARE(watch.exitStatus(), QProcess::NormalExit);
    QCOMPARE(watch.exitCode(), 0);

    const Run timed = tomato({QStringLiteral("watch"), Service, QStringLiteral("--stage"), QStringLiteral("prod"),
                              QStringLiteral("--for"), QStringLiteral("300"), QStringLiteral("--name-service-uri"), zk()});
    QVERIFY2(timed.exitCode == 0 && timed.out == QStringLiteral("= tcp://%1 prod/main weight 100\n").arg(hostPort(2)), timed.show());
    checkOneLineError(tomato({QStringLiteral("watch"), QStringLiteral("no-such-service"), QStringLiteral("--name-service-uri"), zk()}),
                      2, QStringLiteral("not in the registry"));
}

void tst_Cli::statusSummarisesANode()
{
    QCOMPARE(tomato({QStringLiteral("call"), hostPort(1), QStringLiteral("Sample::DemoService.sum"), QStringLiteral("[[4]]")}).exitCode, 0);
    const Run r = tomato({QStringLiteral("status"), server(1).address()});
    QVERIFY2(r.exitCode == 0 && r.err.isEmpty(), r.show());
    for (const QString &text : {QStringLiteral("node           %1\n").arg(server(1).address()),
                                QStringLiteral("micro-service  demo-rpc-service in dev/gray, weight 100\n"),
                                QStringLiteral("readiness      ready\n"), QStringLiteral("registry       connected, registered\n"),
                                QStringLiteral("services:\n"), QStringLiteral("  Sample::DemoService    demo-rpc-service  9 methods\n"),
                                QStringLiteral("  Sample::EchoService    demo-rpc-service  1 method\n"),
                                QStringLiteral("invokers (this node's calls to others):\n  (none)\n"),
                                QStringLiteral("server counters:\n"), QStringLiteral("  callsReceived  "),
                                QStringLiteral("  METHOD  "), QStringLiteral("  Sample::DemoService.sum ")})
        QVERIFY2(r.out.contains(text), qPrintable(text + QLatin1Char('\n') + QString::fromUtf8(r.show())));

    const Run json = tomato({QStringLiteral("status"), hostPort(1), QStringLiteral("--json")});
    QVERIFY2(json.exitCode == 0, json.show());
    const QJsonObject status = json.json().toObject();
    QCOMPARE(status.value(QLatin1String("node")).toObject().value(QLatin1String("group")).toString(), QStringLiteral("gray"));
    QVERIFY(status.value(QLatin1String("statistics")).toObject().value(QLatin1String("callsReceived")).toInt() >= 1);
    QVERIFY(status.value(QLatin1String("services")).toArray().size() >= 2);
    QVERIFY(status.value(QLatin1String("invokers")).isArray());

    // Nobody there: the failed introspection call is named.
    const QString nowhere = QStringLiteral("tcp://127.0.0.1:%1").arg(ZooKeeperServer::freePort());
    checkOneLineError(tomato({QStringLiteral("status"), nowhere}), 3,
                      QStringLiteral("Tomato::Introspection.node on %1 failed: ConnectFailed (103)").arg(nowhere));
    checkOneLineError(tomato({QStringLiteral("describe"), nowhere}), 3,
                      QStringLiteral("Tomato::Introspection.services on %1 failed: ConnectFailed (103)").arg(nowhere));
}

void tst_Cli::overrideWeightThenClear()
{
    const QStringList registry = {QStringLiteral("--name-service-uri"), zk()};
    const QString address = hostPort(0);
    const Run set = tomato(QStringList{QStringLiteral("override"), Service, address, QStringLiteral("--weight"), QStringLiteral("5")} + registry);
    QVERIFY2(set.exitCode == 0 && set.out == QStringLiteral("demo-rpc-service dev %1: weight 5\n").arg(address), set.show());
    // Visible to every client of the service within a second.
    QTRY_COMPARE_WITH_TIMEOUT(m_registry->overrides(Service, QStringLiteral("dev")).value(address).weight.value_or(0), 5, 1000);
    const Run list = tomato(QStringList{QStringLiteral("list"), QStringLiteral("--stage"), QStringLiteral("dev")} + registry);
    QVERIFY2(QRegularExpression(QStringLiteral("tcp://%1 +100 +\\S+ +\\S+ +weight 5\n").arg(QRegularExpression::escape(address)))
                 .match(list.out)
                 .hasMatch(),
             list.show());
    const Run disable = tomato(QStringList{QStringLiteral("override"), Service, address, QStringLiteral("--disable"),
                                           QStringLiteral("--json")} + registry);
    QVERIFY2(disable.exitCode == 0, disable.show());
    QCOMPARE(disable.json().toArray().at(0).toObject().value(QLatin1String("override")).toObject(),
             (QJsonObject{{QStringLiteral("weight"), 5}, {QStringLiteral("disabled"), true}}));

    const Run clear = tomato(QStringList{QStringLiteral("override"), Service, address, QStringLiteral("--clear")} + registry);
    QVERIFY2(clear.exitCode == 0 && clear.out == QStringLiteral("demo-rpc-service dev %1: no override\n").arg(address), clear.show());
    const Run after = tomato(QStringList{QStringLiteral("list"), QStringLiteral("--stage"), QStringLiteral("dev")} + registry);
    QVERIFY2(!after.out.contains(QLatin1String("weight 5")) && !after.out.contains(QLatin1String("disabled")), after.show());
    QTRY_VERIFY_WITH_TIMEOUT(m_registry->overrides(Service, QStringLiteral("dev")).isEmpty(), 5000);
    // An instance that is not registered needs its stage named.
    checkOneLineError(tomato(QStringList{QStringLiteral("override"), Service, QStringLiteral("127.0.0.1:1"), QStringLiteral("--clear")}
                             + registry),
                      2, QStringLiteral("--stage"));
}

void tst_Cli::anUnreachableRegistryExits3()
{
    const QString nowhere = QStringLiteral("127.0.0.1:%1").arg(ZooKeeperServer::freePort());
    QElapsedTimer took;
    took.start();
    const QStringList options = {QStringLiteral("--name-service-uri"), nowhere, QStringLiteral("--timeout"), QStringLiteral("700")};
    checkOneLineError(tomato(QStringList{QStringLiteral("list")} + options), 3, QStringLiteral("cannot reach the registry"));
    checkOneLineError(tomato(QStringList{QStringLiteral("call"), Service, QStringLiteral("Sample::EchoService.echo")} + options), 3,
                      QStringLiteral("cannot reach the registry"));
    QVERIFY2(took.elapsed() < 10000, "the timeout bounds the wait");
}

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
