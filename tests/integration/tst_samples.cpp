// SPDX-License-Identifier: Apache-2.0
// The sample programs as a user runs them: a real server process, a real client process,
// real sockets.
#include "documentedbytes.h"
#include "sampleserver.h"
#include "testcertificates.h"
#include "zookeeperserver.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtNetwork/QTcpSocket>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QSet>
#include <QtGui/QImage>
#include <QtTest/QTest>

#include <csignal>

class tst_Samples : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void theSampleClientGetsEveryReplyFromTheSampleServer();
    void theSamplesTalkOverEveryTransport_data();
    void theSamplesTalkOverEveryTransport();
    void theServerStopsGracefullyOnSigterm();
    void theQuickCallerCallsFromQmlAndTakesItsScreenshot();
    void theWidgetsClientCancelsOnTheServerAndTakesItsScreenshot();
    void theBoardAppIsAServiceThatRemoteCallersChange();
    void twoChatWindowsTalkThroughARoomFoundInZooKeeper();
    void everyProgramAnswersHelpAndVersionAndRefusesMistakes_data();
    void everyProgramAnswersHelpAndVersionAndRefusesMistakes();
    void helpListsTheConfigurationKeysWithTheirDefaults();
    void theProtocolDocumentsExampleGetsTheDocumentedAnswer();

private:
    // Starts the server on a free port; returns the port, 0 on failure.
    quint16 startServer(QProcess &server, const QStringList &extra = {});
    // The same, returning the addresses it listens on (none on failure).
    QStringList startServerAt(QProcess &server, const QStringList &extra);
    // Starts one of the Qt sample apps on the offscreen platform.
    static void startOffscreen(QProcess &app, const QString &program, const QStringList &arguments);
};

void tst_Samples::startOffscreen(QProcess &app, const QString &program, const QStringList &arguments)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    app.setProcessEnvironment(env);
    app.start(program, arguments);
}

quint16 tst_Samples::startServer(QProcess &server, const QStringList &extra)
{
    const QStringList addresses = startServerAt(server, QStringList{QStringLiteral("--tomato-rpc.host=127.0.0.1"),
                                                                    QStringLiteral("--tomato-rpc.port=0")} + extra);
    return quint16(addresses.value(0).section(QLatin1Char(':'), -1).toUInt());
}

QStringList tst_Samples::startServerAt(QProcess &server, const QStringList &extra)
{
    server.setProcessChannelMode(QProcess::SeparateChannels);
    server.start(QStringLiteral(SAMPLE_SERVER),
                 QStringList{QStringLiteral("--tomato-rpc.stage=dev"), QStringLiteral("--tomato-rpc.group=main")} + extra);
    if (!server.waitForStarted())
        return {};
    QByteArray out;
    QDeadlineTimer deadline(10000);
    while (!out.contains('\n') && !deadline.hasExpired()) {
        server.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime())));
        out += server.readAllStandardOutput();
    }
    const auto m = QRegularExpression(QStringLiteral("^READY .* listening=(\\S+)"), QRegularExpression::MultilineOption)
                       .match(QString::fromUtf8(out));
    return m.hasMatch() ? m.captured(1).split(QLatin1Char(',')) : QStringList();
}

void tst_Samples::theSampleClientGetsEveryReplyFromTheSampleServer()
{
    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY2(port != 0, server.readAllStandardError().constData());
    QProcess client;
    client.start(QStringLiteral(SAMPLE_CLIENT),
                 {QStringLiteral("--server"), QStringLiteral("127.0.0.1:%1").arg(port)});
    QVERIFY(client.waitForFinished(20000));
    const QString out = QString::fromUtf8(client.readAllStandardOutput());
    QVERIFY2(client.exitCode() == 0, qPrintable(out + QString::fromUtf8(client.readAllStandardError())));
    const QString who = QStringLiteral("127.0.0.1:%1 demo-rpc-service stage=dev group=main").arg(port);
    QVERIFY2(out.contains(QStringLiteral("echo (blocking): [%1] hello, tomato").arg(who)), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("echo (future):   [%1] hello again").arg(who)), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("text='demo' sum=17 attributes=colour,size")), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("normalize:       numbers=1,3,5,8 attributes=3")), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("sum(1..10):      55")), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("notifications:   2")), qPrintable(out));
    // DemoService's asynchronous methods: a call to EchoService continued, QtConcurrent, a fan-out.
    QVERIFY2(out.contains(QStringLiteral("shout:           [%1] QUIET").arg(who.toUpper())), qPrintable(out));
    QVERIFY2(out.contains(QLatin1String("primes < 10^6:   78498")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("echoAll:         [%1] a | [%1] b").arg(who)), qPrintable(out));
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void tst_Samples::theSamplesTalkOverEveryTransport_data()
{
    QTest::addColumn<QString>("transport");
    QTest::newRow("tls") << QStringLiteral("tls");
    QTest::newRow("unix") << QStringLiteral("unix");
    QTest::newRow("tcp and tls at once") << QStringLiteral("both");
}

void tst_Samples::theSamplesTalkOverEveryTransport()
{
    QFETCH(QString, transport);
    TestCertificates certificates;
    QVERIFY2(certificates.make(), qPrintable(certificates.error()));
    const QStringList tls{QStringLiteral("--tomato-rpc.tls-cert=") + certificates.cert(QStringLiteral("server")),
                          QStringLiteral("--tomato-rpc.tls-key=") + certificates.key(QStringLiteral("server")),
                          // DemoService's asynchronous methods call the server's own EchoService
                          QStringLiteral("--tomato-rpc.tls-ca=") + certificates.ca()};
    QStringList serverArgs;
    if (transport == QLatin1String("tls"))
        serverArgs = QStringList{QStringLiteral("--tomato-rpc.transport=tls"), QStringLiteral("--tomato-rpc.host=127.0.0.1"),
                                 QStringLiteral("--tomato-rpc.port=0")} + tls;
    else if (transport == QLatin1String("unix"))
        serverArgs = {QStringLiteral("--tomato-rpc.listen=unix://") + certificates.directory() + QLatin1String("/demo.sock")};
    else
        serverArgs = QStringList{QStringLiteral("--tomato-rpc.listen=tcp://127.0.0.1:0,tls://127.0.0.1:0")} + tls;
    QProcess server;
    const QStringList addresses = startServerAt(server, serverArgs);
    QVERIFY2(!addresses.isEmpty(), server.readAllStandardError().constData());
    QCOMPARE(addresses.size(), transport == QLatin1String("both") ? 2 : 1);
    QVERIFY2(addresses.first().startsWith(transport == QLatin1String("both") ? QStringLiteral("tcp://") : transport + QLatin1String("://")),
             qPrintable(addresses.join(QLatin1Char(','))));
    for (const QString &a : addresses) {
        QProcess client;
        client.start(QStringLiteral(SAMPLE_CLIENT),
                     {QStringLiteral("--server"), a, QStringLiteral("--tomato-rpc.tls-ca=") + certificates.ca()});
        QVERIFY(client.waitForFinished(20000));
        const QString out = QString::fromUtf8(client.readAllStandardOutput());
        QVERIFY2(client.exitCode() == 0, qPrintable(a + QLatin1Char(' ') + out + QString::fromUtf8(client.readAllStandardError())));
        QVERIFY2(out.contains(QLatin1String("sum(1..10):      55")), qPrintable(out));
    }
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void tst_Samples::theServerStopsGracefullyOnSigterm()
{
    QProcess server;
    QVERIFY(startServer(server) != 0);
    ::kill(pid_t(server.processId()), SIGTERM);
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitStatus(), QProcess::NormalExit);
    QCOMPARE(server.exitCode(), 0);
    QVERIFY(server.readAllStandardOutput().contains("stopping: draining calls in flight"));
}

// examples/quick-caller (docs/QML.md): its calls from QML settle and it writes its window.
void tst_Samples::theQuickCallerCallsFromQmlAndTakesItsScreenshot()
{
#ifndef QUICK_CALLER
    QSKIP("built without Qt Quick (TOMATO_BUILD_DASHBOARD=OFF): no tomato-quick-caller");
#else
    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY2(port != 0, server.readAllStandardError().constData());
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("caller.png"));
    QProcess caller;
    startOffscreen(caller, QStringLiteral(QUICK_CALLER),
                   {QStringLiteral("--server"), QStringLiteral("tcp://127.0.0.1:%1").arg(port), QStringLiteral("--screenshot"), png});
    QVERIFY(caller.waitForFinished(30000));
    QVERIFY2(caller.exitCode() == 0, caller.readAllStandardError().constData());
    const QImage image(png);
    QCOMPARE(image.size(), QSize(720, 440));
    // Its seven calls reached the server (and introspection none: the interfaces are registered).
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
    const QString out = QString::fromUtf8(server.readAllStandardOutput());
    const auto stopped = QRegularExpression(QStringLiteral("stopped after (\\d+) calls")).match(out);
    QVERIFY2(stopped.hasMatch(), qPrintable(out));
    QVERIFY2(stopped.captured(1).toInt() >= 6, qPrintable(out)); // sum("1, 2") is refused in QML, before it is sent
#endif
}

// examples/widgets-client: its script (a result, an error, a call cancelled after 300 ms)
// runs, and the cancel reached the server: the pending countPrimes() was dropped there.
void tst_Samples::theWidgetsClientCancelsOnTheServerAndTakesItsScreenshot()
{
    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY2(port != 0, server.readAllStandardError().constData());
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("widgets.png"));
    QProcess client;
    startOffscreen(client, QStringLiteral(WIDGETS_CLIENT),
                   {QStringLiteral("--server"), QStringLiteral("tcp://127.0.0.1:%1").arg(port), QStringLiteral("--screenshot"), png});
    QVERIFY(client.waitForFinished(40000));
    QVERIFY2(client.exitCode() == 0, client.readAllStandardError().constData());
    QCOMPARE(QImage(png).size(), QSize(560, 300));
    // The server's /metrics: one call dropped for its caller, none left in flight.
    QTcpSocket http;
    http.connectToHost(QStringLiteral("127.0.0.1"), port);
    QVERIFY(http.waitForConnected(5000));
    http.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    QByteArray page;
    while (http.waitForReadyRead(5000))
        page += http.readAll();
    page += http.readAll();
    QVERIFY2(page.contains("\ntomato_server_calls_cancelled_total 1\n"), page.constData());
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

// examples/board-app: a window that is itself a service (object-thread dispatch); the
// `tomato` command line changes what it shows, and every call ran on the window's thread.
void tst_Samples::theBoardAppIsAServiceThatRemoteCallersChange()
{
    QTemporaryDir dir;
    const QString png = dir.filePath(QStringLiteral("board.png"));
    QProcess app;
    startOffscreen(app, QStringLiteral(BOARD_APP),
                   {QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--screenshot"), png,
                    QStringLiteral("--after"), QStringLiteral("2")});
    QByteArray out;
    QDeadlineTimer deadline(20000);
    while (!out.contains("READY ") && !deadline.hasExpired()) {
        app.waitForReadyRead(200);
        out += app.readAllStandardOutput();
    }
    const auto m = QRegularExpression(QStringLiteral("READY (\\d+)")).match(QString::fromUtf8(out));
    QVERIFY2(m.hasMatch(), app.readAllStandardError().constData());
    const QString address = QStringLiteral("127.0.0.1:") + m.captured(1);
    const auto call = [&](const QString &method, const QString &arguments) {
        QProcess cli;
        cli.start(QStringLiteral(TOMATO_CLI), {QStringLiteral("call"), address, QStringLiteral("Sample::BoardService.") + method,
                                               arguments});
        cli.waitForFinished(20000);
        return QString::fromUtf8(cli.readAllStandardOutput()).trimmed();
    };
    QCOMPARE(call(QStringLiteral("show"), QStringLiteral("[\"Hello from afar\", \"darkgreen\"]")), QStringLiteral("true"));
    QCOMPARE(call(QStringLiteral("shown"), QStringLiteral("[]")), QStringLiteral("\"Hello from afar\""));
    QCOMPARE(call(QStringLiteral("show"), QStringLiteral("[\"Changed again\", \"#a4161a\"]")), QStringLiteral("true"));
    QVERIFY(app.waitForFinished(20000)); // the second change: the screenshot, then it exits
    QCOMPARE(app.exitCode(), 0);
    QCOMPARE(QImage(png).size(), QSize(560, 260));
}

// examples/chat (docs/SIGNALS.md): a room server registered in ZooKeeper and two windows that
// find it there, started together. Each says one thing and shows both messages: the other's
// came as the remote signal messagePosted (or, had it been posted before the window
// subscribed, in history()), and each writes its window.
void tst_Samples::twoChatWindowsTalkThroughARoomFoundInZooKeeper()
{
#ifndef CHAT_APP
    QSKIP("built without Qt Quick (TOMATO_BUILD_DASHBOARD=OFF): no tomato-chat");
#else
    ZooKeeperServer zk;
    QVERIFY2(zk.start(), qPrintable(zk.log()));
    const QString registry = QStringLiteral("zookeeper://") + zk.hosts();
    QProcess server;
    server.setProcessChannelMode(QProcess::SeparateChannels);
    server.start(QStringLiteral(CHAT_SERVER),
                 {QStringLiteral("--tomato-rpc.name-service-uri=") + registry, QStringLiteral("--tomato-rpc.host=127.0.0.1"),
                  QStringLiteral("--tomato-rpc.port=0"), QStringLiteral("--tomato-rpc.stage=dev"),
                  QStringLiteral("--tomato-rpc.group=main")});
    QVERIFY2(waitForSampleServerReady(server) != 0, server.readAllStandardError().constData());

    QTemporaryDir dir;
    const auto window = [&](QProcess &app, const QString &name, const QString &say) {
        startOffscreen(app, QStringLiteral(CHAT_APP),
                       {QStringLiteral("--registry"), registry, QStringLiteral("--stage"), QStringLiteral("dev"),
                        QStringLiteral("--group"), QStringLiteral("main"), QStringLiteral("--name"), name,
                        QStringLiteral("--say"), say, QStringLiteral("--expect"), QStringLiteral("2"),
                        QStringLiteral("--screenshot"), dir.filePath(name + QLatin1String(".png"))});
    };
    QProcess alice, bob;
    window(alice, QStringLiteral("Alice"), QStringLiteral("hi Bob"));
    window(bob, QStringLiteral("Bob"), QStringLiteral("hi Alice"));
    // Each gives up by itself after 30 s (--timeout), saying why.
    QVERIFY(alice.waitForFinished(60000));
    QVERIFY(bob.waitForFinished(60000));
    const QString aliceOut = QString::fromUtf8(alice.readAllStandardOutput());
    const QString bobOut = QString::fromUtf8(bob.readAllStandardOutput());
    QVERIFY2(alice.exitCode() == 0, qPrintable(aliceOut + QString::fromUtf8(alice.readAllStandardError())));
    QVERIFY2(bob.exitCode() == 0, qPrintable(bobOut + QString::fromUtf8(bob.readAllStandardError())));

    const QRegularExpression fromBob(QStringLiteral("^MESSAGE [12] Bob: hi Alice$"), QRegularExpression::MultilineOption);
    const QRegularExpression fromAlice(QStringLiteral("^MESSAGE [12] Alice: hi Bob$"), QRegularExpression::MultilineOption);
    QVERIFY2(aliceOut.contains(fromBob), qPrintable(aliceOut));
    QVERIFY2(aliceOut.contains(fromAlice), qPrintable(aliceOut)); // its own, as the room numbered it
    QVERIFY2(bobOut.contains(fromAlice), qPrintable(bobOut));
    QVERIFY2(bobOut.contains(fromBob), qPrintable(bobOut));
    // Each message shown once, though it may have come both as an event and in history().
    const QRegularExpression message(QStringLiteral("^MESSAGE "));
    QCOMPARE(aliceOut.split(QLatin1Char('\n')).filter(message).size(), 2);
    QCOMPARE(bobOut.split(QLatin1Char('\n')).filter(message).size(), 2);

    for (const QString &name : {QStringLiteral("Alice"), QStringLiteral("Bob")}) {
        const QImage image(dir.filePath(name + QLatin1String(".png")));
        QCOMPARE(image.size(), QSize(480, 540));
        // A drawn window (header, bubbles, text), not a blank one.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 4) {
            for (int x = 0; x < image.width(); x += 4)
                colours.insert(image.pixel(x, y));
        }
        QVERIFY2(colours.size() > 20, qPrintable(QStringLiteral("%1.png has %2 colours").arg(name).arg(colours.size())));
    }

    server.terminate();
    QVERIFY(server.waitForFinished(10000));
    const QString posted = QString::fromUtf8(server.readAllStandardOutput());
    QVERIFY2(posted.contains(QLatin1String("Alice: hi Bob")) && posted.contains(QLatin1String("Bob: hi Alice")), qPrintable(posted));
#endif
}

// Every program: --help and --version print and exit 0; an unknown option, a missing value,
// a bad value or a stray argument is one line on stderr and exit code 2, before anything
// listens or connects.
void tst_Samples::everyProgramAnswersHelpAndVersionAndRefusesMistakes_data()
{
    QTest::addColumn<QString>("program");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QString>("output"); // stdout contains it; for exit code 2: the stderr line

    const QString server = QStringLiteral(SAMPLE_SERVER);
    const QString client = QStringLiteral(SAMPLE_CLIENT);
    const QString bench = QStringLiteral(TOMATO_BENCH);
    const QString stubgen = QStringLiteral(TOMATO_STUBGEN);
    const QString version = QStringLiteral(TOMATO_VERSION_TEXT);
    QStringList programs{server, client, bench, stubgen};
#ifdef CHAT_SERVER
    programs << QStringLiteral(CHAT_SERVER);
    // A Qt GUI program: stdout only (QGuiApplication may warn on stderr about the environment).
    QTest::newRow("tomato-chat --help") << QStringLiteral(CHAT_APP) << QStringList{QStringLiteral("--help")} << 0
                                        << QStringLiteral("--expect <n>");
    QTest::newRow("tomato-chat --version") << QStringLiteral(CHAT_APP) << QStringList{QStringLiteral("--version")} << 0
                                           << QStringLiteral("tomato-chat ") + version + QLatin1Char('\n');
#endif
    for (const QString &p : std::as_const(programs)) {
        const QString name = QFileInfo(p).fileName();
        QTest::addRow("%s --help", qPrintable(name)) << p << QStringList{QStringLiteral("--help")} << 0
                                                      << QStringLiteral("Usage: ");
        QTest::addRow("%s --version", qPrintable(name)) << p << QStringList{QStringLiteral("--version")} << 0
                                                         << name + QLatin1Char(' ') + version + QLatin1Char('\n');
        QTest::addRow("%s --help-all", qPrintable(name)) << p << QStringList{QStringLiteral("--help-all")} << 0
                                                          << QStringLiteral("--qmljsdebugger"); // Qt's own options
        QTest::addRow("%s unknown option", qPrintable(name)) << p << QStringList{QStringLiteral("--bogus")} << 2
                                                              << name + QStringLiteral(": Unknown option 'bogus'. (see --help)");
    }
    QTest::newRow("server bad value")
        << server << QStringList{QStringLiteral("--tomato-rpc.port=eighty")} << 2
        << QStringLiteral("tomato-sample-server: tomato-rpc config: key 'port' from command line argument "
                          "--tomato-rpc.port=eighty: 'eighty' is not an integer");
    QTest::newRow("server missing value")
        << server << QStringList{QStringLiteral("--tomato-rpc.port")} << 2
        << QStringLiteral("tomato-sample-server: tomato-rpc config: key 'port' from command line argument "
                          "--tomato-rpc.port: the value is missing (write --tomato-rpc.port=<value>)");
    QTest::newRow("server misspelt key")
        << server << QStringList{QStringLiteral("--tomato-rpc.prot=1")} << 2
        << QStringLiteral("tomato-sample-server: tomato-rpc config: key 'prot' from command line argument "
                          "--tomato-rpc.prot=1: unknown key (did you mean 'port'?)");
    QTest::newRow("server stray argument") << server << QStringList{QStringLiteral("4567")} << 2
                                           << QStringLiteral("tomato-sample-server: unexpected argument '4567' (see --help)");
    QTest::newRow("client missing value") << client << QStringList{QStringLiteral("--server")} << 2
                                          << QStringLiteral("tomato-sample-client: Missing value after '--server'. (see --help)");
    QTest::newRow("client bad server")
        << client << QStringList{QStringLiteral("--server"), QStringLiteral("tcp://localhost")} << 2
        << QStringLiteral("tomato-sample-client: --server: 'tcp://localhost' is not of the form tcp://host:port");
    QTest::newRow("client bad registry")
        << client << QStringList{QStringLiteral("--tomato-rpc.name-service-uri=etcd://x:1")} << 2
        << QStringLiteral("tomato-sample-client: name-service-uri: no registry backend for 'etcd://' (known: static, "
                          "zookeeper)");
    QTest::newRow("bench bad port") << bench << QStringList{QStringLiteral("server"), QStringLiteral("http")} << 2
                                    << QStringLiteral("tomato-bench: 'http' is not a port (see --help)");
    QTest::newRow("bench bad workload")
        << bench << QStringList{QStringLiteral("client"), QStringLiteral("fast"), QStringLiteral("1")} << 2
        << QStringLiteral("tomato-bench: 'fast' is not a workload (lat, tput, big, conns, cluster) (see --help)");
    QTest::newRow("stubgen without arguments") << stubgen << QStringList{} << 2
                                               << QStringLiteral("tomato-stubgen: --json, --header, --output-dir and "
                                                                 "--basename are required (see --help)");
}

void tst_Samples::everyProgramAnswersHelpAndVersionAndRefusesMistakes()
{
    QFETCH(QString, program);
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    QFETCH(QString, output);
    QProcess p;
    p.start(program, arguments);
    QVERIFY(p.waitForFinished(10000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    const QString out = QString::fromUtf8(p.readAllStandardOutput());
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(p.exitCode() == exitCode, qPrintable(err));
    if (exitCode == 2) {
        QCOMPARE(err, output + QLatin1Char('\n'));
        QVERIFY(out.isEmpty());
    } else {
        QVERIFY2(out.contains(output), qPrintable(out));
    }
}

void tst_Samples::helpListsTheConfigurationKeysWithTheirDefaults()
{
    QProcess p;
    p.start(QStringLiteral(SAMPLE_SERVER), {QStringLiteral("--help")});
    QVERIFY(p.waitForFinished(10000));
    // Qt wraps the descriptions; join the lines to read them.
    const QString help = QString::fromUtf8(p.readAllStandardOutput()).simplified();
    QVERIFY2(help.contains(QLatin1String("--tomato-rpc.port <value>")), qPrintable(help));
    QVERIFY(help.contains(QLatin1String("--tomato-rpc.config <file>")));
    QVERIFY(help.contains(QLatin1String("--tomato-rpc.timeout-ms <value>")));
    QVERIFY(help.contains(QLatin1String("Default: 4567.")));             // the application's default
    QVERIFY(help.contains(QLatin1String("Default: demo-rpc-service."))); // the same
    QVERIFY(help.contains(QLatin1String("Default: 5000.")));             // the library's (timeout-ms)

    p.start(QStringLiteral(SAMPLE_CLIENT), {QStringLiteral("--help")});
    QVERIFY(p.waitForFinished(10000));
    const QString clientHelp = QString::fromUtf8(p.readAllStandardOutput()).simplified();
    QVERIFY2(clientHelp.contains(QLatin1String("--server <address> Call this server directly")), qPrintable(clientHelp));
    QVERIFY(clientHelp.contains(QLatin1String("--tomato-rpc.name-service-uri <value>")));
}

void tst_Samples::theProtocolDocumentsExampleGetsTheDocumentedAnswer()
{
    QFile file(QStringLiteral(PROTOCOL_DOC));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray doc = file.readAll();
    const QByteArray request = documentedBytes(doc, "<!-- example-request -->");
    const QByteArray response = documentedBytes(doc, "<!-- example-response -->");
    QCOMPARE(request.size(), 75);
    QCOMPARE(response.size(), 31);

    QProcess server;
    const quint16 port = startServer(server);
    QVERIFY(port != 0);
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    QVERIFY(socket.waitForConnected(5000));
    socket.write(request);
    QByteArray answer;
    QDeadlineTimer deadline(5000);
    while (answer.size() < response.size() && socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
        answer += socket.readAll();
    QCOMPARE(answer.toHex(' '), response.toHex(' '));
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

QTEST_GUILESS_MAIN(tst_Samples)
#include "tst_samples.moc"
