// SPDX-License-Identifier: Apache-2.0
// The generated stubs of the sample API compile, have the right shape, and the generator
// refuses what it cannot serve.
#include "demoservice_stub.h"
#include "echoservice_stub.h"

#include <tomato/client/rpcclient.h>

#include <QtCore/QFileInfo>
#include <QtCore/QPoint>
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

// What may travel, as the generated stubs check it at compile time.
namespace Kinds {
Q_NAMESPACE
enum class Registered { A };
Q_ENUM_NS(Registered)
enum class Unregistered { B };
struct Gadget
{
    Q_GADGET
public:
    enum class Nested { C };
    Q_ENUM(Nested)
    enum Plain { D };
};
struct DerivedFromGadget : Gadget
{};
} // namespace Kinds
static_assert(Tomato::IsRemoteType<Kinds::Registered>::value);
static_assert(!Tomato::IsRemoteType<Kinds::Unregistered>::value); // no Q_ENUM: no name, no metaobject
static_assert(Tomato::IsRemoteType<Kinds::Gadget::Nested>::value);
static_assert(!Tomato::IsRemoteType<Kinds::Gadget::Plain>::value);
static_assert(Tomato::IsRemoteType<Kinds::Gadget>::value);
static_assert(!Tomato::IsRemoteType<Kinds::DerivedFromGadget>::value); // no metaobject of its own
static_assert(Tomato::IsRemoteType<QMap<QString, QList<Kinds::Gadget>>>::value);
static_assert(Tomato::IsRemoteType<std::vector<Kinds::Gadget::Nested>>::value);
static_assert(!Tomato::IsRemoteType<QMap<int, Kinds::Gadget>>::value); // keys must be strings
static_assert(!Tomato::IsRemoteType<QList<QPoint>>::value);
static_assert(!Tomato::IsRemoteType<long double>::value);
static_assert(Tomato::IsRemoteType<void>::value && Tomato::IsRemoteType<QVariantMap>::value);

class tst_Stubs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void generatedStubsTakeTheirDefaultsFromTheClient();
    void theGeneratorWritesAStubPerInterface();
    void theGeneratorNamesEachMistake_data();
    void theGeneratorNamesEachMistake();
    void theGeneratorAcceptsEveryKindOfValue();
    void theGeneratorTakesIncludeAndExportOptions();
};

namespace {

struct Generated
{
    int exitCode = -1;
    QByteArray errors;
};

// Runs moc --output-json and tomato-stubgen on `text` saved as dir/<name>, as
// tomato_add_stubs() does.
Generated generate(const QTemporaryDir &dir, const QString &name, const QByteArray &text,
                   const QStringList &extra = {})
{
    const QString header = dir.filePath(name);
    QFile f(header);
    if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size())
        return {};
    f.close();
    const QString base = QFileInfo(name).baseName();
    const QString moc = dir.filePath(QStringLiteral("moc_%1.cpp").arg(base));
    QProcess::execute(QStringLiteral(TOMATO_MOC),
                      {QStringLiteral("--output-json"), QStringLiteral("--no-notes"), QStringLiteral("-o"), moc, header});
    QProcess gen;
    gen.start(QStringLiteral(TOMATO_STUBGEN),
              QStringList{QStringLiteral("--json"), moc + QLatin1String(".json"), QStringLiteral("--header"), header,
                          QStringLiteral("--output-dir"), dir.path(), QStringLiteral("--basename"), base}
                  + extra);
    if (!gen.waitForFinished())
        return {};
    return {gen.exitCode(), gen.readAllStandardError()};
}

} // namespace

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

// Each mistake a newcomer makes in an interface header is refused before anything is
// compiled, with one line in the compiler's format: file, line, what is wrong, what to do.
void tst_Stubs::theGeneratorNamesEachMistake_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("message");

    QTest::newRow("no Q_OBJECT") << QByteArray("#include <QObject>\n"
                                               "class Calc : public QObject\n"
                                               "{\n"
                                               "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                               "public:\n"
                                               "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n"
                                               "};\n")
                                 << QStringLiteral(":2: error: class Calc has Q_CLASSINFO(\"microServiceId\") but no "
                                                   "Q_OBJECT: add Q_OBJECT as the first line of the class");
    QTest::newRow("no microServiceId") << QByteArray("#include <QObject>\n"
                                                     "class Calc : public QObject\n"
                                                     "{\n"
                                                     "    Q_OBJECT\n"
                                                     "public:\n"
                                                     "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n"
                                                     "};\n")
                                       << QStringLiteral(":2: error: class Calc has no Q_CLASSINFO(\"microServiceId\", "
                                                         "\"...\"): add it to make it an interface (clients find the "
                                                         "service by that id)");
    QTest::newRow("no Q_INVOKABLE") << QByteArray("#include <QObject>\n"
                                                  "class Calc : public QObject\n"
                                                  "{\n"
                                                  "    Q_OBJECT\n"
                                                  "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                                  "public:\n"
                                                  "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n"
                                                  "    virtual int sub(int a, int b) = 0;\n"
                                                  "};\n")
                                    << QStringLiteral(":8: error: Calc::sub is pure virtual but not Q_INVOKABLE: add "
                                                      "Q_INVOKABLE (moc does not see it, so the stub could not "
                                                      "implement it)");
    QTest::newRow("overload") << QByteArray("#include <QObject>\n"
                                            "namespace Math {\n"
                                            "class Calc : public QObject\n"
                                            "{\n"
                                            "    Q_OBJECT\n"
                                            "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                            "public:\n"
                                            "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n"
                                            "    Q_INVOKABLE virtual double add(double a, double b) = 0;\n"
                                            "};\n"
                                            "}\n")
                              << QStringLiteral(":9: error: Math::Calc::add is overloaded (add(int a, int b), "
                                                "add(double a, double b)): remote methods need unique names; rename one");
    QTest::newRow("pointer") << QByteArray("#include <QObject>\n"
                                           "class Calc : public QObject\n"
                                           "{\n"
                                           "    Q_OBJECT\n"
                                           "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                           "public:\n"
                                           "    Q_INVOKABLE virtual int sum(const int *values, int count) = 0;\n"
                                           "};\n")
                             << QStringLiteral(":7: error: Calc::sum: parameter 1 'const int*' is a pointer: a remote "
                                               "call carries values, not addresses; use a value or a const reference "
                                               "(an object stays on its machine)");
    QTest::newRow("signal with a pointer") << QByteArray("#include <QObject>\n"
                                           "class Calc : public QObject\n"
                                           "{\n"
                                           "    Q_OBJECT\n"
                                           "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                           "public:\n"
                                           "    Q_INVOKABLE virtual int sum(int a, int b) = 0;\n"
                                           "Q_SIGNALS:\n"
                                           "    void summed(const int *values);\n"
                                           "};\n")
                             << QStringLiteral(":9: error: Calc::summed: signal parameter 1 'const int*' is a pointer: a remote "
                                               "call carries values, not addresses; use a value or a const reference "
                                               "(an object stays on its machine)");
    QTest::newRow("QObject") << QByteArray("#include <QObject>\n"
                                           "class Calc : public QObject\n"
                                           "{\n"
                                           "    Q_OBJECT\n"
                                           "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                           "public:\n"
                                           "    Q_INVOKABLE virtual QObject *make() = 0;\n"
                                           "};\n")
                             << QStringLiteral(":7: error: Calc::make: the return type 'QObject*': a QObject cannot "
                                               "travel (it stays on its machine); pass a Q_GADGET value with the data "
                                               "instead");
    QTest::newRow("plain struct") << QByteArray("#include <QObject>\n"
                                                "struct Point\n"
                                                "{\n"
                                                "    int x = 0;\n"
                                                "};\n"
                                                "class Geometry : public QObject\n"
                                                "{\n"
                                                "    Q_OBJECT\n"
                                                "    Q_CLASSINFO(\"microServiceId\", \"geometry\")\n"
                                                "public:\n"
                                                "    Q_INVOKABLE virtual double length(const QList<Point> &p) = 0;\n"
                                                "};\n")
                                  << QStringLiteral(":2: error: Geometry::length: parameter 1 'QList<Point>': Point is "
                                                    "neither a value type Tomato marshals nor a Q_GADGET: add Q_GADGET "
                                                    "and a Q_PROPERTY per field to Point");
    QTest::newRow("reserved name") << QByteArray("#include <QObject>\n"
                                                 "class Calc : public QObject\n"
                                                 "{\n"
                                                 "    Q_OBJECT\n"
                                                 "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                                 "public:\n"
                                                 "    Q_INVOKABLE virtual void deleteLater() = 0;\n"
                                                 "};\n")
                                   << QStringLiteral(":7: error: Calc::deleteLater: the name is QObject's own "
                                                     "(deleteLater, destroyed, objectNameChanged): rename the method");
    QTest::newRow("no Q_INVOKABLE, braces in a default") << QByteArray("#include <QObject>\n#include <QStringList>\n"
                                                             "class Calc : public QObject\n"
                                                             "{\n"
                                                             "    Q_OBJECT\n"
                                                             "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                                             "public:\n"
                                                             "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n"
                                                             "    virtual QString join(const QStringList &l = {}) = 0;\n"
                                                             "};\n")
                                                 << QStringLiteral(":9: error: Calc::join is pure virtual but not "
                                                                   "Q_INVOKABLE: add Q_INVOKABLE (moc does not see it, so "
                                                                   "the stub could not implement it)");
    QTest::newRow("not public") << QByteArray("#include <QObject>\n"
                                              "class Calc : public QObject\n"
                                              "{\n"
                                              "    Q_OBJECT\n"
                                              "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                              "public:\n"
                                              "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n"
                                              "protected:\n"
                                              "    Q_INVOKABLE virtual int sub(int a, int b) = 0;\n"
                                              "};\n")
                                << QStringLiteral(":9: error: Calc::sub is pure virtual but protected: the stub implements "
                                                  "public Q_INVOKABLE methods only; make it public");
    QTest::newRow("not virtual") << QByteArray("#include <QObject>\n"
                                               "class Calc : public QObject\n"
                                               "{\n"
                                               "    Q_OBJECT\n"
                                               "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                               "public:\n"
                                               "    Q_INVOKABLE int add(int a, int b);\n"
                                               "};\n")
                                 << QStringLiteral(":7: error: Calc::add is Q_INVOKABLE but not virtual: declare it "
                                                   "'virtual ... = 0' (the stub and the implementation override it)");
    QTest::newRow("enum without Q_ENUM") << QByteArray("#include <QObject>\n"
                                                       "class Calc : public QObject\n"
                                                       "{\n"
                                                       "    Q_OBJECT\n"
                                                       "    Q_CLASSINFO(\"microServiceId\", \"calc\")\n"
                                                       "public:\n"
                                                       "    enum class Mode { Exact, Fast };\n"
                                                       "    Q_INVOKABLE virtual int add(int a, int b, Calc::Mode m) = 0;\n"
                                                       "};\n")
                                         << QStringLiteral(":7: error: Calc::add: parameter 3 'Calc::Mode' is an enum "
                                                           "without Q_ENUM: add Q_ENUM(Mode) after it (Q_ENUM_NS in a "
                                                           "namespace with Q_NAMESPACE)");
    QTest::newRow("no class at all") << QByteArray("#include <QObject>\nint f();\n")
                                     << QStringLiteral(": error: no interface here: an interface is a QObject class "
                                                       "with Q_OBJECT, Q_CLASSINFO(\"microServiceId\", \"...\") and "
                                                       "Q_INVOKABLE pure virtual methods");
}

void tst_Stubs::theGeneratorNamesEachMistake()
{
    QFETCH(QByteArray, header);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Generated g = generate(dir, QStringLiteral("calc.h"), header);
    QCOMPARE(g.exitCode, 1);
    QCOMPARE(QString::fromUtf8(g.errors), dir.filePath(QStringLiteral("calc.h")) + message + QLatin1Char('\n'));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("calc_stub.h")))); // nothing half-written
}

// Gadgets and enums of the header, containers of them, and qualified or unqualified
// spellings pass; comments and strings are not read as declarations.
void tst_Stubs::theGeneratorAcceptsEveryKindOfValue()
{
    QTemporaryDir dir;
    const Generated g = generate(dir, QStringLiteral("geo.h"),
                                 "#include <QObject>\n#include <QMap>\n#include <QStringList>\n"
                                 "namespace Geo {\n"
                                 "struct Point { Q_GADGET Q_PROPERTY(int x MEMBER x) public: int x = 0; };\n"
                                 "class Geometry : public QObject\n{\n    Q_OBJECT\n"
                                 "    Q_CLASSINFO(\"microServiceId\", \"geometry\")\npublic:\n"
                                 "    enum class Unit { Metre, Foot };\n    Q_ENUM(Unit)\n"
                                 "    // virtual int commented(int *) = 0;\n"
                                 "    /* virtual void add(int) = 0; */\n"
                                 "    Q_INVOKABLE virtual double length(const QList<Geo::Point> &p, Unit u) = 0;\n"
                                 "    Q_INVOKABLE virtual QMap<QString, QList<Point>> group(const QStringList &n) const = 0;\n"
                                 "    Q_INVOKABLE virtual QVariantMap add(const QByteArray &b, qint64 n = 1'000) = 0;\n"
                                 "    Q_INVOKABLE virtual QString join(const QStringList &l = {}, char sep = '{') = 0;\n"
                                 "    // Not remote: a helper that calls remote methods is no overload of them.\n"
                                 "    QString twice(const QStringList &l) { return join(l) + join(l, ';'); }\n"
                                 "};\n}\n"
                                 "namespace Old {\n"
                                 "// Q_CLASSINFO(\"microServiceId\", \"old\") was here once: a comment is no interface.\n"
                                 "class Geometry { public: virtual double length() = 0; virtual ~Geometry() = default; };\n"
                                 "}\n");
    QVERIFY2(g.exitCode == 0, g.errors.constData());
    QVERIFY(g.errors.isEmpty());
    QVERIFY(QFile::exists(dir.filePath(QStringLiteral("geo_stub.h"))));
}

void tst_Stubs::theGeneratorTakesIncludeAndExportOptions()
{
    QTemporaryDir dir;
    const Generated g = generate(dir, QStringLiteral("calc.h"),
                                 "#include <QObject>\nclass CALC_EXPORT Calc : public QObject\n{\n    Q_OBJECT\n"
                                 "    Q_CLASSINFO(\"microServiceId\", \"calc\")\npublic:\n"
                                 "    Q_INVOKABLE virtual int add(int a, int b) = 0;\n};\n",
                                 {QStringLiteral("--include"), QStringLiteral("calc/calc.h"),
                                  QStringLiteral("--export-macro"), QStringLiteral("CALC_EXPORT"),
                                  QStringLiteral("--export-header"), QStringLiteral("calc/calc_export.h")});
    QVERIFY2(g.exitCode == 0, g.errors.constData());
    QFile out(dir.filePath(QStringLiteral("calc_stub.h")));
    QVERIFY(out.open(QIODevice::ReadOnly));
    const QByteArray text = out.readAll();
    QVERIFY(text.contains("#include \"calc/calc.h\"\n#include \"calc/calc_export.h\"\n"));
    QVERIFY(text.contains("class CALC_EXPORT CalcStub final : public Calc"));
    QVERIFY(!text.contains(dir.path().toUtf8())); // no absolute path: the header can be installed
}

QTEST_GUILESS_MAIN(tst_Stubs)
#include "tst_stubs.moc"
