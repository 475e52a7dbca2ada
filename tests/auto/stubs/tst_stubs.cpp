// The generated stubs of the sample API compile, have the right shape, and the generator
// refuses what it cannot serve.
#include "demoservice_stub.h"
#include "echoservice_stub.h"

#include <tomato/client/rpcclient.h>

#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

static_assert(std::is_base_of_v<Sample::EchoService, Sample::EchoServiceStub>);
static_assert(std::is_base_of_v<QObject, Sample::DemoServiceStub>);
static_assert(std::is_same_v<Tomato::StubFor<Sample::EchoService>::Type, Sample::EchoServiceStub>);
static_assert(std::is_same_v<decltype(std::declval<Sample::EchoServiceStub &>().echoAsync(QString())),
                             QFuture<QString>>);
static_assert(std::is_same_v<decltype(std::declval<Sample::DemoServiceStub &>().notifyAsync(QString())),
                             QFuture<void>>);
static_assert(std::is_same_v<decltype(std::declval<Sample::DemoServiceStub &>().normalizeAsync(Sample::DemoRequest())),
                             QFuture<Sample::DemoRequest>>);

class tst_Stubs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void generatedStubsTakeTheirDefaultsFromTheClient();
    void theGeneratorRefusesAHeaderWithoutAnInterface();
    void theGeneratorWritesAStubPerInterface();
};

void tst_Stubs::generatedStubsTakeTheirDefaultsFromTheClient()
{
    Tomato::RpcConfig config;
    config.setTimeoutMs(1234);
    Tomato::RpcClient client(config);
    auto stub = client.createDirectStub<Sample::DemoService>(QStringLiteral("127.0.0.1:1"));
    QCOMPARE(stub->timeout(), std::chrono::milliseconds(1234));
    stub->setTimeout(std::chrono::milliseconds(99));
    QCOMPARE(stub->timeout(), std::chrono::milliseconds(99));
    QCOMPARE(stub->stubCore().channel().describe(), QStringLiteral("tcp://127.0.0.1:1"));
    QVERIFY_THROWS_EXCEPTION(Tomato::RpcError,
                             client.createDirectStub<Sample::DemoService>(QStringLiteral("no-port")));
}

void tst_Stubs::theGeneratorRefusesAHeaderWithoutAnInterface()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString header = dir.filePath(QStringLiteral("plain.h"));
    QFile f(header);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("#include <QObject>\nclass Plain : public QObject { Q_OBJECT\npublic:\n"
            "Q_INVOKABLE virtual int x() = 0; };\n");
    f.close();
    QCOMPARE(QProcess::execute(QStringLiteral(TOMATO_MOC),
                               {QStringLiteral("--output-json"), QStringLiteral("-o"),
                                dir.filePath(QStringLiteral("moc_plain.cpp")), header}), 0);
    QProcess gen;
    gen.start(QStringLiteral(TOMATO_STUBGEN),
              {QStringLiteral("--json"), dir.filePath(QStringLiteral("moc_plain.cpp.json")),
               QStringLiteral("--header"), header, QStringLiteral("--output-dir"), dir.path(),
               QStringLiteral("--basename"), QStringLiteral("plain")});
    QVERIFY(gen.waitForFinished());
    QCOMPARE(gen.exitCode(), 1);
    QVERIFY(gen.readAllStandardError().contains("microServiceId"));
}

void tst_Stubs::theGeneratorWritesAStubPerInterface()
{
    QTemporaryDir dir;
    const QString header = dir.filePath(QStringLiteral("two.h"));
    QFile f(header);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("#include <QObject>\nnamespace A { namespace B {\n"
            "class One : public QObject { Q_OBJECT Q_CLASSINFO(\"microServiceId\", \"s\")\npublic:\n"
            "Q_INVOKABLE virtual int x(int a, int b = 2) const = 0; };\n"
            "class Two : public QObject { Q_OBJECT Q_CLASSINFO(\"microServiceId\", \"s\")\npublic:\n"
            "Q_INVOKABLE virtual void y() = 0; };\n}}\n");
    f.close();
    QCOMPARE(QProcess::execute(QStringLiteral(TOMATO_MOC),
                               {QStringLiteral("--output-json"), QStringLiteral("-o"),
                                dir.filePath(QStringLiteral("moc_two.cpp")), header}), 0);
    QCOMPARE(QProcess::execute(QStringLiteral(TOMATO_STUBGEN),
                               {QStringLiteral("--json"), dir.filePath(QStringLiteral("moc_two.cpp.json")),
                                QStringLiteral("--header"), header, QStringLiteral("--output-dir"),
                                dir.path(), QStringLiteral("--basename"), QStringLiteral("two")}), 0);
    QFile out(dir.filePath(QStringLiteral("two_stub.h")));
    QVERIFY(out.open(QIODevice::ReadOnly));
    const QByteArray text = out.readAll();
    QVERIFY(text.contains("class OneStub final : public One"));
    QVERIFY(text.contains("class TwoStub final : public Two"));
    QVERIFY(text.contains("struct Tomato::StubFor<::A::B::One>"));
    // The default-argument clone moc reports is folded into one method of two arguments,
    // and the const qualifier is kept so the override matches.
    QCOMPARE(text.count("> x("), 2); // the full override, and the form without `b`
    QVERIFY(text.contains("a1) const override"));
}

QTEST_GUILESS_MAIN(tst_Stubs)
#include "tst_stubs.moc"
