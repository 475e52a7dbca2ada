// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/rpcconfig.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QTest>

#include <algorithm>
#include <functional>
#include <optional>

using Tomato::ConfigError;
using Tomato::RpcConfig;

using ConfigChange = std::function<void(RpcConfig &)>;
Q_DECLARE_METATYPE(ConfigChange)

namespace {

// "NAME=value" strings to an environment, so that no test touches the real one.
QProcessEnvironment environment(const QStringList &assignments)
{
    QProcessEnvironment env;
    for (const QString &a : assignments)
        env.insert(a.section(QLatin1Char('='), 0, 0), a.section(QLatin1Char('='), 1));
    return env;
}

// The ConfigError thrown by f, or nothing.
std::optional<ConfigError> errorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const ConfigError &e) {
        return e;
    }
    return std::nullopt;
}

// The message every error about one key has: it names the key and the source.
QString messagePrefix(const QString &key, const QString &source)
{
    return QStringLiteral("tomato-rpc config: key '%1' from %2: ").arg(key, source);
}

} // namespace

// RpcConfig gathers a node's settings from defaults, a JSON file, the environment and the
// command line. Every test builds its own environment object and files in a temporary
// directory; none reads or changes the process environment.
class tst_RpcConfig : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();

    void keysAreTheTomatoRpcKeysAndEachIsDescribed();
    void defaultsAreTheDocumentedOnes_data();
    void defaultsAreTheDocumentedOnes();
    void typedGettersReturnTheDefaults();
    void theDocumentationListsEveryKeyWithItsDefaultAndStatus();

    void laterSourcesOverrideEarlierOnes_data();
    void laterSourcesOverrideEarlierOnes();
    void eachSourceOverridesOnlyTheKeysItNames();
    void theFileComesFromTheCallerThenTheCommandLineThenTheEnvironment_data();
    void theFileComesFromTheCallerThenTheCommandLineThenTheEnvironment();

    void everyKeyAcceptsItsValidTextForms_data();
    void everyKeyAcceptsItsValidTextForms();
    void badTextValuesAreRefusedNamingKeyAndSource_data();
    void badTextValuesAreRefusedNamingKeyAndSource();
    void jsonFileAcceptsValuesOfTheRightJsonType_data();
    void jsonFileAcceptsValuesOfTheRightJsonType();
    void jsonFileRefusesValuesOfTheWrongJsonType_data();
    void jsonFileRefusesValuesOfTheWrongJsonType();

    void unknownKeysAreRefusedInEverySource_data();
    void unknownKeysAreRefusedInEverySource();
    void aKeyGivenTwiceInOneSourceIsRefused_data();
    void aKeyGivenTwiceInOneSourceIsRefused();
    void argumentsThatAreNotTomatoRpcOnesAreLeftAlone();
    void aValueMayFollowItsArgumentAsTheNextArgument();
    void anArgumentWithoutValueIsRefused_data();
    void anArgumentWithoutValueIsRefused();
    void tomatoRpcAliasesNameStageAndGroup();
    void unreadableOrInvalidFilesAreRefusedNamingTheFile_data();
    void unreadableOrInvalidFilesAreRefusedNamingTheFile();
    void badConfigFileSettingsAreRefused_data();
    void badConfigFileSettingsAreRefused();
    void fileKeysMayBeWrappedInATomatoRpcObject();
    void applicationDefaultsApplyWhereNoSourceSpoke();
    void theParserListsEveryKeyWithItsDefault();

    void subscribedServicesGroupReadsTheOriginalSyntax_data();
    void subscribedServicesGroupReadsTheOriginalSyntax();
    void subscribedServicesGroupRefusesMalformedEntries_data();
    void subscribedServicesGroupRefusesMalformedEntries();
    void useGzipMeansGzipOnlyWhileCompressionIsNone_data();
    void useGzipMeansGzipOnlyWhileCompressionIsNone();

    void typedSettersStoreValuesWithTheApiAsSource();
    void typedSettersRefuseValuesOutOfRange_data();
    void typedSettersRefuseValuesOutOfRange();
    void everyValueRoundTripsThroughSet();
    void genericAccessToAnUnknownKeyThrows_data();
    void genericAccessToAnUnknownKeyThrows();
    void copiesAreIndependent();
    void summaryShowsEveryKeyWithValueAndSource();

private:
    QString writeFile(const QByteArray &content);

    QTemporaryDir m_dir;
    int m_files = 0;
};

QString tst_RpcConfig::writeFile(const QByteArray &content)
{
    const QString path = m_dir.filePath(QStringLiteral("config-%1.json").arg(++m_files));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

void tst_RpcConfig::initTestCase()
{
    QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
}

// ---- keys, defaults, documentation --------------------------------------------------------

void tst_RpcConfig::keysAreTheTomatoRpcKeysAndEachIsDescribed()
{
    const QStringList expected = {
        "micro-service-id", "name-service-uri", "port", "host", "business-thread", "stage", "group",
        "server-idle-check-ms", "subscribed-services", "subscribed-services-group",
        "client-keep-alive-ms", "use-gzip", "enable-circuit", "circuit-open-rate",
        "circuit-open-seconds", "circuit-window", "io-threads", "max-frame-bytes", "timeout-ms",
        "serialization", "advertise-host", "compression", "compression-threshold-bytes",
        "empty-protection", "drain-timeout-ms", "weight", "registry-session-timeout-ms",
        "transport", "listen", "tls-cert", "tls-key", "tls-ca", "tls-verify-peer",
        "tls-require-client-cert", "tls-allowed-clients", "tls-handshake-timeout-ms", "unix-socket-access",
        "connections-per-instance", "connect-timeout-ms", "reconnect-backoff-min-ms", "reconnect-backoff-max-ms",
        "load-balance", "load-balance-by-service", "cluster", "cluster-by-method", "retries",
        "idempotent-methods", "circuit-min-calls", "circuit-half-open-calls", "warmup-seconds",
        "max-queued-calls", "max-queued-per-connection", "status-enabled", "status-port",
        "status-request-timeout-ms", "max-buffered-bytes", "max-buffered-wait-ms", "frame-read-timeout-ms",
        "first-byte-timeout-ms", "max-connections", "max-connections-per-host", "status-max-connections",
        "max-event-queue-bytes",
    };
    QCOMPARE(RpcConfig::keys(), expected);

    for (const QString &key : expected) {
        QVERIFY2(RpcConfig::description(key).size() > 20, qPrintable(key));
        QVERIFY2(RpcConfig::description(key).endsWith(QLatin1Char('.')), qPrintable(key));
        QCOMPARE(RpcConfig::environmentVariable(key),
                 QStringLiteral("TOMATO_RPC_") + key.toUpper().replace(QLatin1Char('-'), QLatin1Char('_')));
    }
    QCOMPARE(RpcConfig::environmentVariable(QStringLiteral("micro-service-id")),
             QStringLiteral("TOMATO_RPC_MICRO_SERVICE_ID"));
}

void tst_RpcConfig::defaultsAreTheDocumentedOnes_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<bool>("implemented");

    const QString threads = QString::number(std::max(2, QThread::idealThreadCount()));
    QTest::newRow("micro-service-id") << "micro-service-id" << "" << true;
    QTest::newRow("name-service-uri") << "name-service-uri" << "" << true;
    QTest::newRow("port") << "port" << "0" << true;
    QTest::newRow("host") << "host" << "0.0.0.0" << true;
    QTest::newRow("business-thread") << "business-thread" << threads << true;
    QTest::newRow("stage") << "stage" << "default" << true;
    QTest::newRow("group") << "group" << "default" << true;
    QTest::newRow("server-idle-check-ms") << "server-idle-check-ms" << "60000" << true;
    QTest::newRow("subscribed-services") << "subscribed-services" << "" << true;
    QTest::newRow("subscribed-services-group") << "subscribed-services-group" << "" << true;
    QTest::newRow("client-keep-alive-ms") << "client-keep-alive-ms" << "20000" << true;
    QTest::newRow("use-gzip") << "use-gzip" << "false" << true;
    QTest::newRow("enable-circuit") << "enable-circuit" << "true" << true;
    QTest::newRow("circuit-open-rate") << "circuit-open-rate" << "50" << true;
    QTest::newRow("circuit-open-seconds") << "circuit-open-seconds" << "10" << true;
    QTest::newRow("circuit-window") << "circuit-window" << "100" << true;
    QTest::newRow("io-threads") << "io-threads" << "2" << true;
    QTest::newRow("max-frame-bytes") << "max-frame-bytes" << "16777216" << true;
    QTest::newRow("timeout-ms") << "timeout-ms" << "5000" << true;
    QTest::newRow("serialization") << "serialization" << "binary" << true;
    QTest::newRow("advertise-host") << "advertise-host" << "" << true;
    QTest::newRow("compression") << "compression" << "none" << true;
    QTest::newRow("compression-threshold-bytes") << "compression-threshold-bytes" << "1024" << true;
    QTest::newRow("empty-protection") << "empty-protection" << "true" << true;
    QTest::newRow("drain-timeout-ms") << "drain-timeout-ms" << "10000" << true;
    QTest::newRow("weight") << "weight" << "100" << true;
    QTest::newRow("registry-session-timeout-ms") << "registry-session-timeout-ms" << "10000" << true;
    QTest::newRow("transport") << "transport" << "tcp" << true;
    QTest::newRow("listen") << "listen" << "" << true;
    QTest::newRow("tls-cert") << "tls-cert" << "" << true;
    QTest::newRow("tls-key") << "tls-key" << "" << true;
    QTest::newRow("tls-ca") << "tls-ca" << "" << true;
    QTest::newRow("tls-verify-peer") << "tls-verify-peer" << "true" << true;
    QTest::newRow("tls-require-client-cert") << "tls-require-client-cert" << "false" << true;
    QTest::newRow("tls-allowed-clients") << "tls-allowed-clients" << "" << true;
    QTest::newRow("tls-handshake-timeout-ms") << "tls-handshake-timeout-ms" << "10000" << true;
    QTest::newRow("unix-socket-access") << "unix-socket-access" << "user" << true;
    QTest::newRow("connections-per-instance") << "connections-per-instance" << "1" << true;
    QTest::newRow("connect-timeout-ms") << "connect-timeout-ms" << "3000" << true;
    QTest::newRow("reconnect-backoff-min-ms") << "reconnect-backoff-min-ms" << "100" << true;
    QTest::newRow("reconnect-backoff-max-ms") << "reconnect-backoff-max-ms" << "10000" << true;
    QTest::newRow("load-balance") << "load-balance" << "random" << true;
    QTest::newRow("load-balance-by-service") << "load-balance-by-service" << "" << true;
    QTest::newRow("cluster") << "cluster" << "failfast" << true;
    QTest::newRow("cluster-by-method") << "cluster-by-method" << "" << true;
    QTest::newRow("retries") << "retries" << "2" << true;
    QTest::newRow("idempotent-methods") << "idempotent-methods" << "" << true;
    QTest::newRow("circuit-min-calls") << "circuit-min-calls" << "20" << true;
    QTest::newRow("circuit-half-open-calls") << "circuit-half-open-calls" << "3" << true;
    QTest::newRow("warmup-seconds") << "warmup-seconds" << "30" << true;
    QTest::newRow("max-queued-calls") << "max-queued-calls" << "10000" << true;
    QTest::newRow("max-queued-per-connection") << "max-queued-per-connection" << "2000" << true;
}

void tst_RpcConfig::defaultsAreTheDocumentedOnes()
{
    QFETCH(QString, key);
    QFETCH(QString, expected);
    QFETCH(bool, implemented);

    QCOMPARE(RpcConfig::defaultValue(key), expected);
    QCOMPARE(RpcConfig::isImplemented(key), implemented);
    const RpcConfig config;
    QCOMPARE(config.value(key), expected);
    QCOMPARE(config.sourceOf(key), QStringLiteral("default"));
    // No source at all gives the same as the default constructor.
    const RpcConfig loaded = RpcConfig::load({QStringLiteral("program")}, QProcessEnvironment());
    QCOMPARE(loaded.value(key), expected);
    QCOMPARE(loaded.sourceOf(key), QStringLiteral("default"));
}

void tst_RpcConfig::typedGettersReturnTheDefaults()
{
    const RpcConfig c;
    QCOMPARE(c.microServiceId(), QString());
    QCOMPARE(c.nameServiceUri(), QString());
    QCOMPARE(c.port(), quint16(0));
    QCOMPARE(c.host(), QStringLiteral("0.0.0.0"));
    QCOMPARE(c.businessThreads(), std::max(2, QThread::idealThreadCount()));
    QCOMPARE(c.stage(), QStringLiteral("default"));
    QCOMPARE(c.group(), QStringLiteral("default"));
    QCOMPARE(c.serverIdleCheckMs(), 60000);
    QCOMPARE(c.subscribedServices(), QStringList());
    QCOMPARE(c.subscribedServicesGroup(), (QHash<QString, QString>()));
    QCOMPARE(c.clientKeepAliveMs(), 20000);
    QCOMPARE(c.useGzip(), false);
    QCOMPARE(c.enableCircuit(), true);
    QCOMPARE(c.circuitOpenRate(), 50);
    QCOMPARE(c.circuitOpenSeconds(), 10);
    QCOMPARE(c.circuitWindow(), 100);
    QCOMPARE(c.circuitMinCalls(), 20);
    QCOMPARE(c.circuitHalfOpenCalls(), 3);
    QCOMPARE(c.connectionsPerInstance(), 1);
    QCOMPARE(c.connectTimeoutMs(), 3000);
    QCOMPARE(c.loadBalance(), QStringLiteral("random"));
    QCOMPARE(c.cluster(), QStringLiteral("failfast"));
    QCOMPARE(c.retries(), 2);
    QCOMPARE(c.warmupSeconds(), 30);
    QCOMPARE(c.maxQueuedCalls(), 10000);
    QCOMPARE(c.maxQueuedPerConnection(), 2000);
    QCOMPARE(c.ioThreads(), 2);
    QCOMPARE(c.maxFrameBytes(), qint64(16777216));
    QCOMPARE(c.timeoutMs(), 5000);
    QCOMPARE(c.serialization(), Tomato::Serialization::Binary);
    QCOMPARE(c.advertiseHost(), QString());
    QCOMPARE(c.compression(), QStringLiteral("none"));
    QCOMPARE(c.compressionThresholdBytes(), 1024);
    QCOMPARE(c.emptyProtection(), true);
    QCOMPARE(c.drainTimeoutMs(), 10000);
    QCOMPARE(c.weight(), 100);
}

void tst_RpcConfig::theDocumentationListsEveryKeyWithItsDefaultAndStatus()
{
#ifndef TOMATO_DOCS_DIR
    QFAIL("TOMATO_DOCS_DIR is not defined by the build (tests/auto/core/CMakeLists.txt)");
#else
    QFile file(QStringLiteral(TOMATO_DOCS_DIR "/CONFIGURATION.md"));
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(file.fileName()));
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'));

    for (const QString &key : RpcConfig::keys()) {
        const QString rowStart = QStringLiteral("| `%1` |").arg(key);
        const auto row = std::find_if(lines.begin(), lines.end(),
                                      [&](const QString &line) { return line.startsWith(rowStart); });
        QVERIFY2(row != lines.end(), qPrintable(QStringLiteral("no table row for %1").arg(key)));
        // | key | type | default | implemented | meaning |
        const QStringList cells = row->split(QLatin1Char('|'));
        QVERIFY2(cells.size() >= 6, qPrintable(*row));
        const QString documentedDefault = cells.at(3).trimmed();
        const QString implemented = cells.at(4).trimmed();
        if (key != QLatin1String("business-thread")) { // depends on the machine
            const QString d = RpcConfig::defaultValue(key);
            QCOMPARE(documentedDefault, d.isEmpty() ? QStringLiteral("(empty)") : QLatin1Char('`') + d + QLatin1Char('`'));
        }
        QVERIFY2(implemented.startsWith(RpcConfig::isImplemented(key) ? QLatin1String("yes") : QLatin1String("no")),
                 qPrintable(*row));
    }
#endif
}

// ---- precedence -------------------------------------------------------------------------

void tst_RpcConfig::laterSourcesOverrideEarlierOnes_data()
{
    QTest::addColumn<bool>("inFile");
    QTest::addColumn<bool>("inEnvironment");
    QTest::addColumn<bool>("onCommandLine");
    QTest::addColumn<QString>("expectedPort");
    QTest::addColumn<QString>("expectedSource");

    // The file says 1111, the environment 2222, the command line 3333.
    QTest::newRow("nothing") << false << false << false << "0" << "default";
    QTest::newRow("file") << true << false << false << "1111" << "file";
    QTest::newRow("environment") << false << true << false << "2222" << "environment TOMATO_RPC_PORT";
    QTest::newRow("command line") << false << false << true << "3333" << "command line";
    QTest::newRow("environment over file") << true << true << false << "2222" << "environment TOMATO_RPC_PORT";
    QTest::newRow("command line over file") << true << false << true << "3333" << "command line";
    QTest::newRow("command line over environment") << false << true << true << "3333" << "command line";
    QTest::newRow("command line over both") << true << true << true << "3333" << "command line";
}

void tst_RpcConfig::laterSourcesOverrideEarlierOnes()
{
    QFETCH(bool, inFile);
    QFETCH(bool, inEnvironment);
    QFETCH(bool, onCommandLine);
    QFETCH(QString, expectedPort);
    QFETCH(QString, expectedSource);

    // Every source names a key of its own too, to see that it always applies.
    const QString path = writeFile(inFile ? QByteArray(R"({"port": 1111, "io-threads": 3})")
                                          : QByteArray(R"({"io-threads": 3})"));
    QStringList assignments = {QStringLiteral("TOMATO_RPC_WEIGHT=7")};
    if (inEnvironment)
        assignments << QStringLiteral("TOMATO_RPC_PORT=2222");
    QStringList arguments = {QStringLiteral("program"), QStringLiteral("--tomato-rpc.stage=dev")};
    if (onCommandLine)
        arguments << QStringLiteral("--tomato-rpc.port=3333");

    const RpcConfig c = RpcConfig::load(arguments, environment(assignments), path);
    if (expectedSource == QLatin1String("file"))
        expectedSource = QStringLiteral("file ") + path;
    QCOMPARE(c.value(QStringLiteral("port")), expectedPort);
    QCOMPARE(c.port(), quint16(expectedPort.toUInt()));
    QCOMPARE(c.sourceOf(QStringLiteral("port")), expectedSource);
    QCOMPARE(c.ioThreads(), 3);
    QCOMPARE(c.sourceOf(QStringLiteral("io-threads")), QStringLiteral("file ") + path);
    QCOMPARE(c.weight(), 7);
    QCOMPARE(c.sourceOf(QStringLiteral("weight")), QStringLiteral("environment TOMATO_RPC_WEIGHT"));
    QCOMPARE(c.stage(), QStringLiteral("dev"));
    QCOMPARE(c.sourceOf(QStringLiteral("stage")), QStringLiteral("command line"));
}

// An application's own defaults replace the built-in ones and yield to every source a user
// gives; they are not "set by the user" (RpcServer's listen/port conflict check asks).
void tst_RpcConfig::applicationDefaultsApplyWhereNoSourceSpoke()
{
    RpcConfig defaults;
    defaults.setPort(4567);
    defaults.setMicroServiceId(QStringLiteral("app-service"));
    defaults.setStage(QStringLiteral("app-stage"));
    const QString path = writeFile(R"({"stage": "file-stage"})");
    const QProcessEnvironment env = environment({QStringLiteral("TOMATO_RPC_GROUP=env-group")});

    const RpcConfig c = RpcConfig::load(defaults, {QStringLiteral("--tomato-rpc.micro-service-id=cli-service")}, env,
                                        path);
    QCOMPARE(c.port(), quint16(4567));
    QCOMPARE(c.sourceOf(QStringLiteral("port")), QStringLiteral("application"));
    QVERIFY(!c.isSetByUser(QStringLiteral("port")));
    QCOMPARE(c.microServiceId(), QStringLiteral("cli-service"));
    QCOMPARE(c.sourceOf(QStringLiteral("micro-service-id")), QStringLiteral("command line"));
    QVERIFY(c.isSetByUser(QStringLiteral("micro-service-id")));
    QCOMPARE(c.stage(), QStringLiteral("file-stage"));
    QVERIFY(c.isSetByUser(QStringLiteral("stage")));
    QCOMPARE(c.group(), QStringLiteral("env-group"));
    QCOMPARE(c.sourceOf(QStringLiteral("host")), QStringLiteral("default"));
    QVERIFY(!c.isSetByUser(QStringLiteral("host")));

    // A server whose application default is the port accepts listen from the user: the
    // default port is no conflict.
    const RpcConfig listening = RpcConfig::load(defaults, {QStringLiteral("--tomato-rpc.listen=tcp://127.0.0.1:0")},
                                                QProcessEnvironment());
    QVERIFY(!listening.isSetByUser(QStringLiteral("port")));
    QVERIFY(listening.isSetByUser(QStringLiteral("listen")));
}

void tst_RpcConfig::theParserListsEveryKeyWithItsDefault()
{
    RpcConfig defaults;
    defaults.setPort(4567);
    QCommandLineParser parser;
    RpcConfig::addOptionsTo(parser, defaults);
    const QString help = parser.helpText().simplified();
    QVERIFY2(help.contains(QLatin1String("--tomato-rpc.config <file> ")), qPrintable(help));
    for (const QString &key : RpcConfig::keys()) {
        const QString option = QStringLiteral("--tomato-rpc.%1 <value> ").arg(key);
        QVERIFY2(help.contains(option), qPrintable(option));
    }
    QCOMPARE(help.count(QLatin1String(" Default: ")), RpcConfig::keys().size());
    QVERIFY2(help.contains(QLatin1String("Default: 4567.")), qPrintable(help));
    QVERIFY(help.contains(QLatin1String("Default: 5000."))); // timeout-ms, built in

    // The parser then accepts what load() reads, in both forms.
    const QStringList args{QStringLiteral("app"), QStringLiteral("--tomato-rpc.port=1"),
                           QStringLiteral("--tomato-rpc.stage"), QStringLiteral("s")};
    QVERIFY2(parser.parse(args), qPrintable(parser.errorText()));
    QCOMPARE(parser.value(QStringLiteral("tomato-rpc.stage")), QStringLiteral("s"));
    const RpcConfig c = RpcConfig::load(defaults, args, QProcessEnvironment());
    QCOMPARE(c.port(), quint16(1));
    QCOMPARE(c.stage(), QStringLiteral("s"));

    // The Tomato-RPC aliases are options too, and name the same setting.
    QVERIFY(help.contains(QLatin1String("Also --tomato-rpc.service-stage.")));
    const QStringList aliased{QStringLiteral("app"), QStringLiteral("--tomato-rpc.service-group=g")};
    QVERIFY2(parser.parse(aliased), qPrintable(parser.errorText()));
    QCOMPARE(RpcConfig::load(aliased, QProcessEnvironment()).group(), QStringLiteral("g"));
}

void tst_RpcConfig::eachSourceOverridesOnlyTheKeysItNames()
{
    const QString path = writeFile(R"({"port": 1, "stage": "file-stage", "group": "file-group"})");
    const QProcessEnvironment env = environment({QStringLiteral("TOMATO_RPC_STAGE=env-stage"),
                                                 QStringLiteral("TOMATO_RPC_GROUP=env-group"),
                                                 QStringLiteral("PATH=/usr/bin")});
    const QStringList args = {QStringLiteral("--tomato-rpc.group=cli-group")};

    const RpcConfig c = RpcConfig::load(args, env, path);
    QCOMPARE(c.port(), quint16(1));
    QCOMPARE(c.sourceOf(QStringLiteral("port")), QStringLiteral("file ") + path);
    QCOMPARE(c.stage(), QStringLiteral("env-stage"));
    QCOMPARE(c.sourceOf(QStringLiteral("stage")), QStringLiteral("environment TOMATO_RPC_STAGE"));
    QCOMPARE(c.group(), QStringLiteral("cli-group"));
    QCOMPARE(c.sourceOf(QStringLiteral("group")), QStringLiteral("command line"));

    const QStringList touched = {QStringLiteral("port"), QStringLiteral("stage"), QStringLiteral("group")};
    for (const QString &key : RpcConfig::keys()) {
        if (touched.contains(key))
            continue;
        QCOMPARE(c.sourceOf(key), QStringLiteral("default"));
        QCOMPARE(c.value(key), RpcConfig::defaultValue(key));
    }
}

void tst_RpcConfig::theFileComesFromTheCallerThenTheCommandLineThenTheEnvironment_data()
{
    QTest::addColumn<bool>("byCaller");
    QTest::addColumn<QString>("argumentForm"); // "", "=" or "two arguments"
    QTest::addColumn<bool>("byEnvironment");
    QTest::addColumn<QString>("expectedStage"); // the stage each file sets names the file

    QTest::newRow("no file") << false << "" << false << "default";
    QTest::newRow("caller") << true << "" << false << "caller";
    QTest::newRow("argument") << false << "=" << false << "argument";
    QTest::newRow("argument as two arguments") << false << "two arguments" << false << "argument";
    QTest::newRow("environment") << false << "" << true << "environment";
    QTest::newRow("caller over argument") << true << "=" << false << "caller";
    QTest::newRow("caller over environment") << true << "" << true << "caller";
    QTest::newRow("argument over environment") << false << "=" << true << "argument";
    QTest::newRow("caller over both") << true << "=" << true << "caller";
}

void tst_RpcConfig::theFileComesFromTheCallerThenTheCommandLineThenTheEnvironment()
{
    QFETCH(bool, byCaller);
    QFETCH(QString, argumentForm);
    QFETCH(bool, byEnvironment);
    QFETCH(QString, expectedStage);

    const QString callerFile = writeFile(R"({"stage": "caller"})");
    const QString argumentFile = writeFile(R"({"stage": "argument"})");
    const QString environmentFile = writeFile(R"({"stage": "environment"})");

    QStringList args = {QStringLiteral("program")};
    if (argumentForm == QLatin1String("="))
        args << QStringLiteral("--tomato-rpc.config=") + argumentFile;
    else if (argumentForm == QLatin1String("two arguments"))
        args << QStringLiteral("--tomato-rpc.config") << argumentFile;
    QProcessEnvironment env;
    if (byEnvironment)
        env.insert(QStringLiteral("TOMATO_RPC_CONFIG"), environmentFile);

    const RpcConfig c = RpcConfig::load(args, env, byCaller ? callerFile : QString());
    QCOMPARE(c.stage(), expectedStage);
    const QHash<QString, QString> files = {{QStringLiteral("caller"), callerFile},
                                           {QStringLiteral("argument"), argumentFile},
                                           {QStringLiteral("environment"), environmentFile}};
    QCOMPARE(c.sourceOf(QStringLiteral("stage")),
             expectedStage == QLatin1String("default") ? QStringLiteral("default")
                                                       : QStringLiteral("file ") + files.value(expectedStage));
}

// ---- values -------------------------------------------------------------------------------

void tst_RpcConfig::everyKeyAcceptsItsValidTextForms_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected"); // value(key) afterwards

    auto row = [](const char *key, const char *text, const char *expected) {
        QTest::addRow("%s=%s", key, text) << QString::fromUtf8(key) << QString::fromUtf8(text)
                                          << QString::fromUtf8(expected);
    };
    row("micro-service-id", "demo-rpc-service", "demo-rpc-service");
    row("micro-service-id", "", "");
    row("micro-service-id", "服务", "服务");
    row("name-service-uri", "127.0.0.1:2181", "127.0.0.1:2181");
    row("port", "0", "0");
    row("port", "4567", "4567");
    row("port", "65535", "65535");
    row("port", "0080", "80");
    row("host", "127.0.0.1", "127.0.0.1");
    row("host", "::", "::");
    row("host", "::1", "::1");
    row("business-thread", "1", "1");
    row("business-thread", "64", "64");
    row("stage", "dev", "dev");
    row("group", "main", "main");
    row("server-idle-check-ms", "0", "0");
    row("server-idle-check-ms", "2147483647", "2147483647");
    row("subscribed-services", "demo-rpc-service", "demo-rpc-service");
    row("subscribed-services", "a,b", "a,b");
    row("subscribed-services", " a , b ", "a,b");
    row("subscribed-services", "", "");
    row("subscribed-services-group", "test-b:dev&test-c:sit", "test-b:dev&test-c:sit");
    row("subscribed-services-group", "", "");
    row("client-keep-alive-ms", "0", "0");
    row("client-keep-alive-ms", "20000", "20000");
    for (const char *key : {"use-gzip", "enable-circuit", "empty-protection"}) {
        for (const char *yes : {"true", "TRUE", "1", "yes", "Yes", "on", "ON"})
            row(key, yes, "true");
        for (const char *no : {"false", "False", "0", "no", "NO", "off", "Off"})
            row(key, no, "false");
    }
    row("circuit-open-rate", "1", "1");
    row("circuit-open-rate", "100", "100");
    row("circuit-open-seconds", "1", "1");
    row("circuit-window", "1", "1");
    row("io-threads", "1", "1");
    row("io-threads", "64", "64");
    row("max-frame-bytes", "1024", "1024");
    row("max-frame-bytes", "2147483647", "2147483647");
    row("timeout-ms", "1", "1");
    row("serialization", "binary", "binary");
    row("serialization", "cbor", "binary");
    row("serialization", "json", "json");
    row("serialization", "JSON", "json");
    row("advertise-host", "node-1.example.com", "node-1.example.com");
    row("compression", "none", "none");
    row("compression", "gzip", "gzip");
    row("compression", "zstd", "zstd");
    row("compression", "Zstd", "zstd");
    row("compression-threshold-bytes", "0", "0");
    row("drain-timeout-ms", "0", "0");
    row("weight", "1", "1");
    row("weight", "1000", "1000");
    row("transport", "tls", "tls");
    row("transport", "TCP", "tcp");
    row("listen", "tcp://0.0.0.0:4567", "tcp://0.0.0.0:4567");
    row("listen", "tcp://0.0.0.0:4567, tls://[::]:4568,unix:///run/t.sock", "tcp://0.0.0.0:4567,tls://[::]:4568,unix:///run/t.sock");
    row("listen", "127.0.0.1:0", "127.0.0.1:0");
    row("tls-allowed-clients", "Sample::EchoService=client-a|client-b;*=admin",
        "*=admin;Sample::EchoService=client-a|client-b");
    row("tls-allowed-clients", " svc = a | b ", "svc=a|b");
    row("tls-allowed-clients", "", "");
    row("tls-handshake-timeout-ms", "100", "100");
    row("unix-socket-access", "group", "group");
    row("unix-socket-access", "World", "world");
}

void tst_RpcConfig::everyKeyAcceptsItsValidTextForms()
{
    QFETCH(QString, key);
    QFETCH(QString, text);
    QFETCH(QString, expected);

    RpcConfig api;
    api.set(key, text);
    QCOMPARE(api.value(key), expected);
    QCOMPARE(api.sourceOf(key), QStringLiteral("API"));

    const QString variable = RpcConfig::environmentVariable(key);
    const RpcConfig fromEnv = RpcConfig::load({}, environment({variable + QLatin1Char('=') + text}));
    QCOMPARE(fromEnv.value(key), expected);
    QCOMPARE(fromEnv.sourceOf(key), QStringLiteral("environment ") + variable);

    const QString argument = QStringLiteral("--tomato-rpc.") + key;
    const RpcConfig joined = RpcConfig::load({argument + QLatin1Char('=') + text}, QProcessEnvironment());
    QCOMPARE(joined.value(key), expected);
    QCOMPARE(joined.sourceOf(key), QStringLiteral("command line"));

    const RpcConfig separate = RpcConfig::load({argument, text}, QProcessEnvironment());
    QCOMPARE(separate.value(key), expected);
}

void tst_RpcConfig::badTextValuesAreRefusedNamingKeyAndSource_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("problem");

    auto row = [](const char *key, const char *text, const char *problem) {
        QTest::addRow("%s=%s", key, text) << QString::fromUtf8(key) << QString::fromUtf8(text)
                                          << QString::fromUtf8(problem);
    };
    row("port", "abc", "'abc' is not an integer");
    row("port", "", "'' is not an integer");
    row("port", " 80", "' 80' is not an integer");
    row("port", "80 ", "'80 ' is not an integer");
    row("port", "+80", "'+80' is not an integer");
    row("port", "0x50", "'0x50' is not an integer");
    row("port", "80.0", "'80.0' is not an integer");
    row("port", "-", "'-' is not an integer");
    row("port", "65536", "'65536' is out of range: must be between 0 and 65535");
    row("port", "-1", "'-1' is out of range: must be between 0 and 65535");
    row("port", "99999999999999999999", "'99999999999999999999' is out of range: must be between 0 and 65535");
    row("host", "localhost", "'localhost' is not an IP address");
    row("host", "", "'' is not an IP address");
    row("host", "256.1.1.1", "'256.1.1.1' is not an IP address");
    row("business-thread", "0", "'0' is out of range: must be at least 1");
    row("stage", "", "must not be empty");
    row("group", "  ", "must not be empty");
    row("server-idle-check-ms", "-1", "'-1' is out of range: must be at least 0");
    row("server-idle-check-ms", "2147483648", "'2147483648' is out of range: must be between 0 and 2147483647");
    row("server-idle-check-ms", "-99999999999999999999", "'-99999999999999999999' is out of range: must be at least 0");
    row("subscribed-services", "a,,b", "entry 2 of 'a,,b' is empty");
    row("subscribed-services", "a,", "entry 2 of 'a,' is empty");
    row("subscribed-services", "a,b,a", "'a' is listed twice");
    row("subscribed-services-group", "test-b", "entry 'test-b' is not of the form service:group");
    row("client-keep-alive-ms", "1s", "'1s' is not an integer");
    row("use-gzip", "maybe", "'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
    row("use-gzip", "", "'' is not a boolean");
    row("enable-circuit", "2", "'2' is not a boolean");
    row("empty-protection", "y", "'y' is not a boolean");
    row("circuit-open-rate", "0", "'0' is out of range: must be between 1 and 100");
    row("circuit-open-rate", "101", "'101' is out of range: must be between 1 and 100");
    row("circuit-open-seconds", "0", "'0' is out of range: must be at least 1");
    row("circuit-window", "0", "'0' is out of range: must be between 1 and 100000");
    row("io-threads", "0", "'0' is out of range: must be between 1 and 64");
    row("io-threads", "65", "'65' is out of range: must be between 1 and 64");
    row("max-frame-bytes", "1023", "'1023' is out of range: must be at least 1024");
    row("max-frame-bytes", "2147483648", "'2147483648' is out of range: must be between 1024 and 2147483647");
    row("max-frame-bytes", "16M", "'16M' is not an integer");
    row("timeout-ms", "0", "'0' is out of range: must be at least 1");
    row("serialization", "xml", "'xml' is not one of: binary, json, cbor");
    row("serialization", "", "'' is not one of: binary, json, cbor");
    row("compression", "lz4", "'lz4' is not one of: none, gzip, zstd");
    row("compression-threshold-bytes", "1k", "'1k' is not an integer");
    row("drain-timeout-ms", "-5", "'-5' is out of range: must be at least 0");
    row("weight", "0", "'0' is out of range: must be between 1 and 1000");
    row("weight", "1001", "'1001' is out of range: must be between 1 and 1000");
    row("transport", "unix", "'unix' is not one of: tcp, tls");
    row("listen", "tcp://0.0.0.0", "'tcp://0.0.0.0' is not of the form tcp://host:port");
    row("listen", "unix://run/t.sock", "'unix://run/t.sock': a Unix socket needs an absolute path");
    row("listen", "tcp://::1:80", "'tcp://::1:80': write an IPv6 host in brackets");
    row("listen", "tcp://:80", "'tcp://:80' has no host");
    row("listen", "tcp://a:1,tcp://a:1", "'tcp://a:1' is listed twice");
    row("tls-allowed-clients", "svc", "entry 'svc' is not of the form service=name|name");
    row("tls-allowed-clients", "svc=", "entry 'svc=' has an empty name");
    row("tls-allowed-clients", "svc=a||b", "entry 'svc=a||b' has an empty name");
    row("tls-allowed-clients", "=a", "entry '=a' has an empty service");
    row("tls-allowed-clients", "svc=a;svc=b", "service 'svc' is given twice");
    row("tls-handshake-timeout-ms", "99", "'99' is out of range: must be at least 100");
    row("unix-socket-access", "root", "'root' is not one of: user, group, world");
}

void tst_RpcConfig::badTextValuesAreRefusedNamingKeyAndSource()
{
    QFETCH(QString, key);
    QFETCH(QString, text);
    QFETCH(QString, problem);

    const QString variable = RpcConfig::environmentVariable(key);
    const QString argument = QStringLiteral("--tomato-rpc.%1=%2").arg(key, text);
    struct Attempt
    {
        QString source;
        std::function<void()> load;
    };
    const QList<Attempt> attempts = {
        {QStringLiteral("API"), [&] { RpcConfig().set(key, text); }},
        {QStringLiteral("environment variable ") + variable,
         [&] { RpcConfig::load({}, environment({variable + QLatin1Char('=') + text})); }},
        {QStringLiteral("command line argument ") + argument,
         [&] { RpcConfig::load({QStringLiteral("program"), argument}, QProcessEnvironment()); }},
        {QStringLiteral("command line argument --tomato-rpc.%1 %2").arg(key, text),
         [&] { RpcConfig::load({QStringLiteral("--tomato-rpc.") + key, text}, QProcessEnvironment()); }},
    };
    for (const Attempt &attempt : attempts) {
        const std::optional<ConfigError> error = errorOf(attempt.load);
        QVERIFY2(error, qPrintable(QStringLiteral("accepted from ") + attempt.source));
        const QString message = QString::fromStdString(error->what());
        QCOMPARE(error->key(), key);
        QCOMPARE(error->source(), attempt.source);
        QVERIFY2(error->problem().startsWith(problem), qPrintable(message));
        QCOMPARE(message, messagePrefix(key, attempt.source) + error->problem());
    }
}

void tst_RpcConfig::jsonFileAcceptsValuesOfTheRightJsonType_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected");

    auto row = [](const char *key, const char *json, const char *expected) {
        QTest::addRow("%s: %s", key, json) << QString::fromUtf8(key) << QByteArray(json)
                                           << QString::fromUtf8(expected);
    };
    row("micro-service-id", R"("demo-rpc-client")", "demo-rpc-client");
    row("port", "3456", "3456");
    row("port", "3456.0", "3456");
    row("port", "0", "0");
    row("business-thread", "4", "4");
    row("max-frame-bytes", "2147483647", "2147483647");
    row("stage", R"("dev")", "dev");
    row("host", R"("::1")", "::1");
    row("use-gzip", "true", "true");
    row("enable-circuit", "false", "false");
    row("subscribed-services", R"(["demo-rpc-service"])", "demo-rpc-service");
    row("subscribed-services", R"(["a", "b"])", "a,b");
    row("subscribed-services", "[]", "");
    row("subscribed-services", R"("a, b")", "a,b");
    row("subscribed-services-group", R"({"test-c": "sit", "test-b": "dev"})", "test-b:dev&test-c:sit");
    row("subscribed-services-group", "{}", "");
    row("subscribed-services-group", R"("test-b:dev&test-c:sit")", "test-b:dev&test-c:sit");
    row("serialization", R"("json")", "json");
    row("compression", R"("zstd")", "zstd");
    row("listen", R"(["tcp://0.0.0.0:1", "unix:///x.sock"])", "tcp://0.0.0.0:1,unix:///x.sock");
    row("tls-allowed-clients", R"({"b": ["x", "y"], "*": ["admin"]})", "*=admin;b=x|y");
    row("tls-allowed-clients", R"("b=x|y")", "b=x|y");
}

void tst_RpcConfig::jsonFileAcceptsValuesOfTheRightJsonType()
{
    QFETCH(QString, key);
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);

    const QString path = writeFile("{\"" + key.toUtf8() + "\": " + json + "}");
    const RpcConfig c = RpcConfig::load({}, QProcessEnvironment(), path);
    QCOMPARE(c.value(key), expected);
    QCOMPARE(c.sourceOf(key), QStringLiteral("file ") + path);
}

void tst_RpcConfig::jsonFileRefusesValuesOfTheWrongJsonType_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("problem");

    auto row = [](const char *key, const char *json, const char *problem) {
        QTest::addRow("%s: %s", key, json) << QString::fromUtf8(key) << QByteArray(json)
                                           << QString::fromUtf8(problem);
    };
    row("port", R"("4567")", R"(expected an integer, found a string ("4567"))");
    row("port", "45.5", "45.5 is not an integer");
    row("port", "1e300", "1.0000000000000001e+300 is out of range: must be between 0 and 65535");
    row("port", "-1", "-1 is out of range: must be between 0 and 65535");
    row("port", "70000", "70000 is out of range: must be between 0 and 65535");
    row("port", "null", "expected an integer, found null");
    row("port", "[1]", "expected an integer, found an array");
    row("stage", "5", "expected a string, found a number (5)");
    row("stage", R"("")", "must not be empty");
    row("micro-service-id", "{}", "expected a string, found an object");
    row("host", "127", "expected a string, found a number (127)");
    row("use-gzip", R"("true")", R"(expected a boolean (true or false), found a string ("true"))");
    row("use-gzip", "1", "expected a boolean (true or false), found a number (1)");
    row("subscribed-services", "[1]", "entry 1 is not a string: found a number (1)");
    row("subscribed-services", R"({"a": "b"})", "expected an array of strings or a comma-separated string, found an object");
    row("subscribed-services", R"([" a"])", "entry ' a' has blanks around it");
    row("subscribed-services", R"([""])", "entry 1 is empty");
    row("subscribed-services", R"(["a,b"])", "entry 'a,b' contains ','");
    row("subscribed-services", R"(["a", "a"])", "'a' is listed twice");
    row("subscribed-services-group", R"({"b": 1})", "the group of service 'b' is not a string: found a number (1)");
    row("subscribed-services-group", R"({"b": ""})", "entry 'b:' has an empty group");
    row("subscribed-services-group", R"({"": "x"})", "entry ':x' has an empty service");
    row("subscribed-services-group", R"({"b": "x:y"})", "entry 'b:x:y': the group 'x:y' contains");
    row("subscribed-services-group", R"(["b:dev"])", "expected an object of service: group strings");
    row("serialization", R"("xml")", "'xml' is not one of: binary, json, cbor");
    row("serialization", "1", "expected a string, found a number (1)");
    row("listen", R"(["tcp://x"])", "'tcp://x' is not of the form tcp://host:port");
    row("tls-allowed-clients", R"({"b": "x"})", "the names of service 'b' are not an array: found a string (\"x\")");
    row("tls-allowed-clients", R"({"b": [1]})", "a name of service 'b' is not a string: found a number (1)");
    row("tls-allowed-clients", R"({"b": []})", "entry 'b=' names nobody");
    row("tls-allowed-clients", R"({"b": ["x;y"]})", "entry 'b=x;y': the name 'x;y' has blanks around it, ';' or '|'");
    row("tls-allowed-clients", R"(["b=x"])", "expected an object of service: [names]");
}

void tst_RpcConfig::jsonFileRefusesValuesOfTheWrongJsonType()
{
    QFETCH(QString, key);
    QFETCH(QByteArray, json);
    QFETCH(QString, problem);

    const QString path = writeFile("{\"" + key.toUtf8() + "\": " + json + "}");
    const std::optional<ConfigError> error = errorOf([&] { RpcConfig::load({}, QProcessEnvironment(), path); });
    QVERIFY(error);
    const QString message = QString::fromStdString(error->what());
    QCOMPARE(error->key(), key);
    QCOMPARE(error->source(), QStringLiteral("file ") + path);
    QVERIFY2(error->problem().startsWith(problem), qPrintable(message));
    QCOMPARE(message, messagePrefix(key, QStringLiteral("file ") + path) + error->problem());
}

// ---- keys and arguments -------------------------------------------------------------------

void tst_RpcConfig::unknownKeysAreRefusedInEverySource_data()
{
    QTest::addColumn<QString>("via");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("problem");

    const QString nearMiss = QStringLiteral("unknown key (did you mean 'port'?)");
    const QString farMiss = QStringLiteral("unknown key (known keys: micro-service-id, name-service-uri, port, ");
    for (const char *via : {"API", "environment", "command line", "file"}) {
        QTest::addRow("%s, near miss", via) << via << "prot" << nearMiss;
        QTest::addRow("%s, far miss", via) << via << "listen-backlog" << farMiss;
    }
    QTest::newRow("config is not a key") << "API" << "config" << QString("unknown key");
    QTest::newRow("keys are case-sensitive") << "file" << "Port" << nearMiss;
    QTest::newRow("Java property spelling") << "command line" << "business.thread"
                                            << QString("unknown key (did you mean 'business-thread'?)");
}

void tst_RpcConfig::unknownKeysAreRefusedInEverySource()
{
    QFETCH(QString, via);
    QFETCH(QString, key);
    QFETCH(QString, problem);

    QString source;
    std::function<void()> attempt;
    if (via == QLatin1String("API")) {
        source = QStringLiteral("API");
        attempt = [&] { RpcConfig().set(key, QStringLiteral("1")); };
    } else if (via == QLatin1String("environment")) {
        const QString variable = QStringLiteral("TOMATO_RPC_") + key.toUpper().replace(QLatin1Char('-'), QLatin1Char('_'));
        source = QStringLiteral("environment variable ") + variable;
        attempt = [&, variable] { RpcConfig::load({}, environment({variable + QStringLiteral("=1")})); };
    } else if (via == QLatin1String("command line")) {
        const QString argument = QStringLiteral("--tomato-rpc.%1=1").arg(key);
        source = QStringLiteral("command line argument ") + argument;
        attempt = [&, argument] { RpcConfig::load({QStringLiteral("program"), argument}, QProcessEnvironment()); };
    } else {
        const QString path = writeFile("{\"port\": 1, \"" + key.toUtf8() + "\": 1}");
        source = QStringLiteral("file ") + path;
        attempt = [&, path] { RpcConfig::load({}, QProcessEnvironment(), path); };
    }

    const std::optional<ConfigError> error = errorOf(attempt);
    QVERIFY(error);
    QCOMPARE(error->key(), key);
    QCOMPARE(error->source(), source);
    QVERIFY2(error->problem().startsWith(problem), error->what());
    QVERIFY2(QString::fromStdString(error->what()).startsWith(messagePrefix(key, source)), error->what());
}

void tst_RpcConfig::aKeyGivenTwiceInOneSourceIsRefused_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("assignments");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("source"); // "file" stands for the file's source
    QTest::addColumn<QString>("problem");

    QTest::newRow("command line, twice")
        << QStringList{"--tomato-rpc.port=1", "--tomato-rpc.port", "2"} << QStringList() << QByteArray()
        << "port" << "command line argument --tomato-rpc.port 2"
        << "the key is already given by --tomato-rpc.port=1";
    QTest::newRow("command line, name and alias")
        << QStringList{"--tomato-rpc.stage=a", "--tomato-rpc.service-stage=b"} << QStringList() << QByteArray()
        << "service-stage" << "command line argument --tomato-rpc.service-stage=b"
        << "the key is already given by --tomato-rpc.stage=a";
    QTest::newRow("environment, name and alias")
        << QStringList() << QStringList{"TOMATO_RPC_GROUP=a", "TOMATO_RPC_SERVICE_GROUP=b"} << QByteArray()
        << "group" << "environment variable TOMATO_RPC_SERVICE_GROUP"
        << "the key is already given by environment variable TOMATO_RPC_GROUP";
    QTest::newRow("file, name and alias")
        << QStringList() << QStringList() << QByteArray(R"({"stage": "a", "service-stage": "b"})")
        << "stage" << "file" << "the key is already given by \"service-stage\"";
}

void tst_RpcConfig::aKeyGivenTwiceInOneSourceIsRefused()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, assignments);
    QFETCH(QByteArray, json);
    QFETCH(QString, key);
    QFETCH(QString, source);
    QFETCH(QString, problem);

    const QString path = json.isEmpty() ? QString() : writeFile(json);
    if (source == QLatin1String("file"))
        source = QStringLiteral("file ") + path;
    const std::optional<ConfigError> error =
        errorOf([&] { RpcConfig::load(arguments, environment(assignments), path); });
    QVERIFY(error);
    QCOMPARE(error->key(), key);
    QCOMPARE(error->source(), source);
    QCOMPARE(error->problem(), problem);
}

void tst_RpcConfig::argumentsThatAreNotTomatoRpcOnesAreLeftAlone()
{
    const QStringList args = {
        QStringLiteral("/usr/bin/sample-server"), QStringLiteral("--port=5"), QStringLiteral("-tomato-rpc.port=x"),
        QStringLiteral("--tomato-rpcport=x"), QStringLiteral("--tomato-rpc"), QStringLiteral("tomato-rpc.port=x"),
        QStringLiteral("--Tomato-Rpc.port=x"), QStringLiteral("--tomato-rpc.port=7"), QStringLiteral("--"),
        // After "--" everything belongs to the program, even what looks like ours.
        QStringLiteral("--tomato-rpc.port=abc"), QStringLiteral("--tomato-rpc.nonsense"),
    };
    const QProcessEnvironment env = environment({QStringLiteral("PATH=/bin"), QStringLiteral("tomato_rpc_port=x"),
                                                 QStringLiteral("TOMATO_RPCPORT=x"), QStringLiteral("XTOMATO_RPC_PORT=x")});
    const RpcConfig c = RpcConfig::load(args, env);
    QCOMPARE(c.port(), quint16(7));
    for (const QString &key : RpcConfig::keys()) {
        if (key != QLatin1String("port"))
            QCOMPARE(c.sourceOf(key), QStringLiteral("default"));
    }
}

void tst_RpcConfig::aValueMayFollowItsArgumentAsTheNextArgument()
{
    const RpcConfig c = RpcConfig::load({QStringLiteral("program"), QStringLiteral("--tomato-rpc.micro-service-id"),
                                         QStringLiteral("demo"), QStringLiteral("--tomato-rpc.timeout-ms"),
                                         QStringLiteral("2000"), QStringLiteral("positional"),
                                         QStringLiteral("--tomato-rpc.group"), QStringLiteral("-x")},
                                        QProcessEnvironment());
    QCOMPARE(c.microServiceId(), QStringLiteral("demo"));
    QCOMPARE(c.timeoutMs(), 2000);
    QCOMPARE(c.group(), QStringLiteral("-x")); // one dash is a value, not an option
}

void tst_RpcConfig::anArgumentWithoutValueIsRefused_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("source");
    QTest::newRow("last argument") << QStringList{"program", "--tomato-rpc.port"} << "port"
                                   << "command line argument --tomato-rpc.port";
    QTest::newRow("followed by an option") << QStringList{"--tomato-rpc.use-gzip", "--verbose"} << "use-gzip"
                                           << "command line argument --tomato-rpc.use-gzip";
    QTest::newRow("followed by one of ours") << QStringList{"--tomato-rpc.stage", "--tomato-rpc.group=x"}
                                             << "stage" << "command line argument --tomato-rpc.stage";
    QTest::newRow("config") << QStringList{"--tomato-rpc.config"} << "config"
                            << "command line argument --tomato-rpc.config";
}

void tst_RpcConfig::anArgumentWithoutValueIsRefused()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, key);
    QFETCH(QString, source);
    const std::optional<ConfigError> error = errorOf([&] { RpcConfig::load(arguments, QProcessEnvironment()); });
    QVERIFY(error);
    QCOMPARE(error->key(), key);
    QCOMPARE(error->source(), source);
    QVERIFY2(error->problem().startsWith(QLatin1String("the value is missing")), error->what());
}

void tst_RpcConfig::tomatoRpcAliasesNameStageAndGroup()
{
    // Tomato-RPC documents -Dtomato-rpc.service-stage and -Dtomato-rpc.service-group too.
    const RpcConfig c = RpcConfig::load({QStringLiteral("--tomato-rpc.service-stage=dev")},
                                        environment({QStringLiteral("TOMATO_RPC_SERVICE_GROUP=alpha")}));
    QCOMPARE(c.stage(), QStringLiteral("dev"));
    QCOMPARE(c.sourceOf(QStringLiteral("stage")), QStringLiteral("command line"));
    QCOMPARE(c.group(), QStringLiteral("alpha"));
    QCOMPARE(c.sourceOf(QStringLiteral("group")), QStringLiteral("environment TOMATO_RPC_SERVICE_GROUP"));
    QCOMPARE(c.value(QStringLiteral("service-group")), QStringLiteral("alpha"));
    QVERIFY(!RpcConfig::keys().contains(QStringLiteral("service-stage")));

    const std::optional<ConfigError> error =
        errorOf([] { RpcConfig::load({QStringLiteral("--tomato-rpc.service-stage=")}, QProcessEnvironment()); });
    QVERIFY(error);
    QCOMPARE(error->key(), QStringLiteral("stage")); // the canonical name, to find it in the docs
    QCOMPARE(error->problem(), QStringLiteral("must not be empty"));
}

void tst_RpcConfig::unreadableOrInvalidFilesAreRefusedNamingTheFile_data()
{
    QTest::addColumn<QString>("kind"); // "missing", "directory" or "content"
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("problem");

    QTest::newRow("missing file") << "missing" << QByteArray() << QString() << "cannot be read: ";
    QTest::newRow("directory") << "directory" << QByteArray() << QString() << "cannot be read: ";
    QTest::newRow("empty file") << "content" << QByteArray() << QString() << "invalid JSON at line 1, column 1: ";
    QTest::newRow("trailing comma") << "content" << QByteArray("{\n  \"port\": 1,\n}\n") << QString()
                                    << "invalid JSON at line 3, column ";
    QTest::newRow("yaml") << "content" << QByteArray("tomato-rpc:\n  port: 4567\n") << QString()
                          << "invalid JSON at line 1, column ";
    QTest::newRow("top level array") << "content" << QByteArray(R"([{"port": 1}])") << QString()
                                     << "the top level must be a JSON object of keys";
    QTest::newRow("section with company") << "content" << QByteArray(R"({"tomato-rpc": {}, "port": 1})")
                                          << QString()
                                          << "\"tomato-rpc\" must be the only member of the top level object "
                                             "(also found: port)";
    QTest::newRow("section not an object") << "content" << QByteArray(R"({"tomato-rpc": "port=1"})")
                                           << "tomato-rpc" << R"(expected an object of keys, found a string ("port=1"))";
}

void tst_RpcConfig::unreadableOrInvalidFilesAreRefusedNamingTheFile()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, content);
    QFETCH(QString, key);
    QFETCH(QString, problem);

    QString path;
    if (kind == QLatin1String("missing")) {
        path = m_dir.filePath(QStringLiteral("missing.json"));
    } else if (kind == QLatin1String("directory")) {
        path = m_dir.filePath(QStringLiteral("a-directory.json"));
        QVERIFY(QDir().mkpath(path));
    } else {
        path = writeFile(content);
    }

    // The same file, whichever way it is named.
    const QList<std::function<void()>> attempts = {
        [&] { RpcConfig::load({}, QProcessEnvironment(), path); },
        [&] { RpcConfig::load({QStringLiteral("--tomato-rpc.config=") + path}, QProcessEnvironment()); },
        [&] { RpcConfig::load({}, environment({QStringLiteral("TOMATO_RPC_CONFIG=") + path})); },
    };
    for (const auto &attempt : attempts) {
        const std::optional<ConfigError> error = errorOf(attempt);
        QVERIFY(error);
        QCOMPARE(error->key(), key);
        QCOMPARE(error->source(), QStringLiteral("file ") + path);
        QVERIFY2(error->problem().startsWith(problem), error->what());
        const QString message = QString::fromStdString(error->what());
        if (key.isEmpty())
            QCOMPARE(message, QStringLiteral("tomato-rpc config: file %1: %2").arg(path, error->problem()));
        else
            QCOMPARE(message, messagePrefix(key, QStringLiteral("file ") + path) + error->problem());
    }
}

void tst_RpcConfig::badConfigFileSettingsAreRefused_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("assignments");
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("problem");

    QTest::newRow("empty argument") << QStringList{"--tomato-rpc.config="} << QStringList()
                                    << "command line argument --tomato-rpc.config=" << "the path is empty";
    QTest::newRow("empty variable") << QStringList() << QStringList{"TOMATO_RPC_CONFIG="}
                                    << "environment variable TOMATO_RPC_CONFIG" << "the path is empty";
    QTest::newRow("two arguments") << QStringList{"--tomato-rpc.config=/a.json", "--tomato-rpc.config", "/b.json"}
                                   << QStringList() << "command line argument --tomato-rpc.config /b.json"
                                   << "the file is already given by --tomato-rpc.config=/a.json";
}

void tst_RpcConfig::badConfigFileSettingsAreRefused()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, assignments);
    QFETCH(QString, source);
    QFETCH(QString, problem);

    const std::optional<ConfigError> error =
        errorOf([&] { RpcConfig::load(arguments, environment(assignments)); });
    QVERIFY(error);
    QCOMPARE(error->key(), QStringLiteral("config"));
    QCOMPARE(error->source(), source);
    QCOMPARE(error->problem(), problem);
}

void tst_RpcConfig::fileKeysMayBeWrappedInATomatoRpcObject()
{
    // The shape of Tomato-RPC's application.yaml, as JSON.
    const QString path = writeFile(R"({
        "tomato-rpc": {
            "micro-service-id": "demo-rpc-client",
            "subscribed-services": ["demo-rpc-service"],
            "name-service-uri": "127.0.0.1:2181",
            "port": 3456,
            "business-thread": 1,
            "stage": "dev",
            "group": "main",
            "client-keep-alive-ms": 20000,
            "use-gzip": false,
            "enable-circuit": true,
            "circuit-open-rate": 75,
            "circuit-open-seconds": 60,
            "circuit-window": 100
        }
    })");
    const RpcConfig c = RpcConfig::load({}, QProcessEnvironment(), path);
    QCOMPARE(c.microServiceId(), QStringLiteral("demo-rpc-client"));
    QCOMPARE(c.subscribedServices(), QStringList{QStringLiteral("demo-rpc-service")});
    QCOMPARE(c.nameServiceUri(), QStringLiteral("127.0.0.1:2181"));
    QCOMPARE(c.port(), quint16(3456));
    QCOMPARE(c.businessThreads(), 1);
    QCOMPARE(c.stage(), QStringLiteral("dev"));
    QCOMPARE(c.group(), QStringLiteral("main"));
    QCOMPARE(c.clientKeepAliveMs(), 20000);
    QCOMPARE(c.useGzip(), false);
    QCOMPARE(c.enableCircuit(), true);
    QCOMPARE(c.circuitOpenRate(), 75);
    QCOMPARE(c.circuitOpenSeconds(), 60);
    QCOMPARE(c.circuitWindow(), 100);
    QCOMPARE(c.sourceOf(QStringLiteral("circuit-window")), QStringLiteral("file ") + path);
    QCOMPARE(c.sourceOf(QStringLiteral("timeout-ms")), QStringLiteral("default"));

    const QString unknown = writeFile(R"({"tomato-rpc": {"prot": 1}})");
    const std::optional<ConfigError> error = errorOf([&] { RpcConfig::load({}, QProcessEnvironment(), unknown); });
    QVERIFY(error);
    QCOMPARE(error->key(), QStringLiteral("prot"));
}

// ---- particular keys ----------------------------------------------------------------------

void tst_RpcConfig::subscribedServicesGroupReadsTheOriginalSyntax_data()
{
    using Map = QHash<QString, QString>;
    QTest::addColumn<QString>("text");
    QTest::addColumn<Map>("expected");

    QTest::newRow("example of the Tomato-RPC docs")
        << "test-b:dev&test-c:sit" << Map{{"test-b", "dev"}, {"test-c", "sit"}};
    QTest::newRow("one entry") << "svc:grp" << Map{{"svc", "grp"}};
    QTest::newRow("blanks around parts") << " a : x & b:y " << Map{{"a", "x"}, {"b", "y"}};
    QTest::newRow("empty") << "" << Map();
    QTest::newRow("blank") << "  " << Map();
    QTest::newRow("dots and underscores") << "org.demo_svc:canary-1" << Map{{"org.demo_svc", "canary-1"}};
}

void tst_RpcConfig::subscribedServicesGroupReadsTheOriginalSyntax()
{
    QFETCH(QString, text);
    using Map = QHash<QString, QString>;
    QFETCH(Map, expected);

    RpcConfig c;
    c.set(QStringLiteral("subscribed-services-group"), text);
    QCOMPARE(c.subscribedServicesGroup(), expected);
    // The canonical form lists services sorted, so it is the same for equal maps.
    QStringList services = expected.keys();
    services.sort();
    QStringList entries;
    for (const QString &s : std::as_const(services))
        entries << s + QLatin1Char(':') + expected.value(s);
    QCOMPARE(c.value(QStringLiteral("subscribed-services-group")), entries.join(QLatin1Char('&')));
}

void tst_RpcConfig::subscribedServicesGroupRefusesMalformedEntries_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("problem");

    QTest::newRow("no colon") << "test-b" << "entry 'test-b' is not of the form service:group";
    QTest::newRow("Java map syntax") << "test-b=dev" << "entry 'test-b=dev' is not of the form service:group";
    QTest::newRow("two colons") << "a:b:c" << "entry 'a:b:c' is not of the form service:group";
    QTest::newRow("empty group") << "a:" << "entry 'a:' has an empty group";
    QTest::newRow("blank group") << "a: " << "entry 'a:' has an empty group";
    QTest::newRow("empty service") << ":grp" << "entry ':grp' has an empty service";
    QTest::newRow("empty entry") << "a:x&&b:y" << "entry 2 of 'a:x&&b:y' is empty";
    QTest::newRow("trailing ampersand") << "a:x&" << "entry 2 of 'a:x&' is empty";
    QTest::newRow("comma instead of ampersand") << "a:x,b:y" << "entry 'a:x,b:y' is not of the form service:group";
    QTest::newRow("service twice") << "a:x&a:y" << "service 'a' is given a group twice";
    QTest::newRow("service twice, same group") << "a:x&a:x" << "service 'a' is given a group twice";
}

void tst_RpcConfig::subscribedServicesGroupRefusesMalformedEntries()
{
    QFETCH(QString, text);
    QFETCH(QString, problem);
    const std::optional<ConfigError> error = errorOf([&] {
        RpcConfig::load({QStringLiteral("--tomato-rpc.subscribed-services-group=") + text}, QProcessEnvironment());
    });
    QVERIFY(error);
    QCOMPARE(error->key(), QStringLiteral("subscribed-services-group"));
    QCOMPARE(error->source(), QStringLiteral("command line argument --tomato-rpc.subscribed-services-group=") + text);
    QCOMPARE(error->problem(), problem);
}

void tst_RpcConfig::useGzipMeansGzipOnlyWhileCompressionIsNone_data()
{
    QTest::addColumn<QString>("compression");
    QTest::addColumn<bool>("useGzip");
    QTest::addColumn<QString>("effective");

    QTest::newRow("none") << "none" << false << "none";
    QTest::newRow("none, use-gzip") << "none" << true << "gzip";
    QTest::newRow("gzip") << "gzip" << false << "gzip";
    QTest::newRow("gzip, use-gzip") << "gzip" << true << "gzip";
    QTest::newRow("zstd") << "zstd" << false << "zstd";
    // An explicit codec is the newer, more precise setting: it wins over the old switch.
    QTest::newRow("zstd, use-gzip") << "zstd" << true << "zstd";
}

void tst_RpcConfig::useGzipMeansGzipOnlyWhileCompressionIsNone()
{
    QFETCH(QString, compression);
    QFETCH(bool, useGzip);
    QFETCH(QString, effective);

    const RpcConfig c = RpcConfig::load(
        {QStringLiteral("--tomato-rpc.compression=") + compression},
        environment({QStringLiteral("TOMATO_RPC_USE_GZIP=") + (useGzip ? QLatin1String("on") : QLatin1String("off"))}));
    QCOMPARE(c.compression(), effective);
    QCOMPARE(c.useGzip(), useGzip);
    QCOMPARE(c.value(QStringLiteral("compression")), compression); // the stored value

    RpcConfig api;
    api.setCompression(compression);
    api.setUseGzip(useGzip);
    QCOMPARE(api.compression(), effective);
}

void tst_RpcConfig::typedSettersStoreValuesWithTheApiAsSource()
{
    RpcConfig c;
    c.setMicroServiceId(QStringLiteral("svc"));
    c.setNameServiceUri(QStringLiteral("zk:2181"));
    c.setPort(65535);
    c.setHost(QStringLiteral("::1"));
    c.setBusinessThreads(3);
    c.setStage(QStringLiteral("prod"));
    c.setGroup(QStringLiteral("canary"));
    c.setServerIdleCheckMs(0);
    c.setSubscribedServices({QStringLiteral("a"), QStringLiteral("b")});
    c.setSubscribedServicesGroup({{QStringLiteral("a"), QStringLiteral("x")}});
    c.setClientKeepAliveMs(1);
    c.setUseGzip(true);
    c.setEnableCircuit(false);
    c.setCircuitOpenRate(30);
    c.setCircuitOpenSeconds(2);
    c.setCircuitWindow(10);
    c.setCircuitMinCalls(5);
    c.setCircuitHalfOpenCalls(1);
    c.setConnectionsPerInstance(4);
    c.setConnectTimeoutMs(250);
    c.setReconnectBackoffMinMs(10);
    c.setReconnectBackoffMaxMs(1000);
    c.setLoadBalance(QStringLiteral("consistent-hash"));
    c.setLoadBalanceByService({{QStringLiteral("svc"), QStringLiteral("round-robin")}});
    c.setCluster(QStringLiteral("failover"));
    c.setClusterByMethod({{QStringLiteral("svc.charge"), QStringLiteral("failfast")}});
    c.setRetries(3);
    c.setIdempotentMethods({{QStringLiteral("svc"), {QStringLiteral("echo"), QStringLiteral("sum")}}});
    c.setWarmupSeconds(0);
    c.setMaxQueuedCalls(50);
    c.setMaxQueuedPerConnection(5);
    c.setStatusEnabled(false);
    c.setStatusPort(8080);
    c.setStatusRequestTimeoutMs(500);
    c.setMaxBufferedBytes(qint64(3) << 30);
    c.setMaxBufferedWaitMs(0);
    c.setFrameReadTimeoutMs(1500);
    c.setFirstByteTimeoutMs(0);
    c.setMaxConnections(100);
    c.setMaxConnectionsPerHost(10);
    c.setStatusMaxConnections(8);
    c.setMaxEventQueueBytes(qint64(5) << 30);
    c.setIoThreads(64);
    c.setMaxFrameBytes(1024);
    c.setTimeoutMs(2000);
    c.setSerialization(Tomato::Serialization::Json);
    c.setAdvertiseHost(QStringLiteral("node-1"));
    c.setCompression(QStringLiteral("zstd"));
    c.setCompressionThresholdBytes(0);
    c.setEmptyProtection(false);
    c.setDrainTimeoutMs(0);
    c.setWeight(1000);
    c.setRegistrySessionTimeoutMs(2000);
    c.setTransport(QStringLiteral("tls"));
    c.setListen({QStringLiteral("tls://0.0.0.0:1"), QStringLiteral("unix:///tmp/x.sock")});
    c.setTlsCert(QStringLiteral("/c.pem"));
    c.setTlsKey(QStringLiteral("/k.pem"));
    c.setTlsCa(QStringLiteral("/ca.pem"));
    c.setTlsVerifyPeer(false);
    c.setTlsRequireClientCert(true);
    c.setTlsAllowedClients({{QStringLiteral("svc"), {QStringLiteral("a"), QStringLiteral("b")}}});
    c.setTlsHandshakeTimeoutMs(500);
    c.setUnixSocketAccess(QStringLiteral("group"));

    QCOMPARE(c.microServiceId(), QStringLiteral("svc"));
    QCOMPARE(c.nameServiceUri(), QStringLiteral("zk:2181"));
    QCOMPARE(c.port(), quint16(65535));
    QCOMPARE(c.host(), QStringLiteral("::1"));
    QCOMPARE(c.businessThreads(), 3);
    QCOMPARE(c.stage(), QStringLiteral("prod"));
    QCOMPARE(c.group(), QStringLiteral("canary"));
    QCOMPARE(c.serverIdleCheckMs(), 0);
    QCOMPARE(c.subscribedServices(), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    QCOMPARE(c.subscribedServicesGroup(), (QHash<QString, QString>{{QStringLiteral("a"), QStringLiteral("x")}}));
    QCOMPARE(c.clientKeepAliveMs(), 1);
    QCOMPARE(c.useGzip(), true);
    QCOMPARE(c.ioThreads(), 64);
    QCOMPARE(c.maxFrameBytes(), qint64(1024));
    QCOMPARE(c.timeoutMs(), 2000);
    QCOMPARE(c.serialization(), Tomato::Serialization::Json);
    QCOMPARE(c.value(QStringLiteral("serialization")), QStringLiteral("json"));
    QCOMPARE(c.advertiseHost(), QStringLiteral("node-1"));
    QCOMPARE(c.compression(), QStringLiteral("zstd"));
    QCOMPARE(c.compressionThresholdBytes(), 0);
    QCOMPARE(c.emptyProtection(), false);
    QCOMPARE(c.drainTimeoutMs(), 0);
    QCOMPARE(c.weight(), 1000);
    QCOMPARE(c.registrySessionTimeoutMs(), 2000);
    QCOMPARE(c.transport(), QStringLiteral("tls"));
    QCOMPARE(c.listen(), (QStringList{QStringLiteral("tls://0.0.0.0:1"), QStringLiteral("unix:///tmp/x.sock")}));
    QCOMPARE(c.tlsCert(), QStringLiteral("/c.pem"));
    QCOMPARE(c.tlsKey(), QStringLiteral("/k.pem"));
    QCOMPARE(c.tlsCa(), QStringLiteral("/ca.pem"));
    QCOMPARE(c.tlsVerifyPeer(), false);
    QCOMPARE(c.tlsRequireClientCert(), true);
    QCOMPARE(c.tlsAllowedClients().value(QStringLiteral("svc")), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    QCOMPARE(c.value(QStringLiteral("tls-allowed-clients")), QStringLiteral("svc=a|b"));
    QCOMPARE(c.tlsHandshakeTimeoutMs(), 500);
    QCOMPARE(c.unixSocketAccess(), QStringLiteral("group"));
    QCOMPARE(c.enableCircuit(), false);
    QCOMPARE(c.circuitOpenRate(), 30);
    QCOMPARE(c.circuitOpenSeconds(), 2);
    QCOMPARE(c.circuitWindow(), 10);
    QCOMPARE(c.circuitMinCalls(), 5);
    QCOMPARE(c.circuitHalfOpenCalls(), 1);
    QCOMPARE(c.connectionsPerInstance(), 4);
    QCOMPARE(c.connectTimeoutMs(), 250);
    QCOMPARE(c.reconnectBackoffMinMs(), 10);
    QCOMPARE(c.reconnectBackoffMaxMs(), 1000);
    QCOMPARE(c.loadBalance(), QStringLiteral("consistent-hash"));
    QCOMPARE(c.loadBalanceByService().value(QStringLiteral("svc")), QStringLiteral("round-robin"));
    QCOMPARE(c.cluster(), QStringLiteral("failover"));
    QCOMPARE(c.clusterByMethod().value(QStringLiteral("svc.charge")), QStringLiteral("failfast"));
    QCOMPARE(c.retries(), 3);
    QCOMPARE(c.idempotentMethods().value(QStringLiteral("svc")), (QStringList{QStringLiteral("echo"), QStringLiteral("sum")}));
    QCOMPARE(c.warmupSeconds(), 0);
    QCOMPARE(c.maxQueuedCalls(), 50);
    QCOMPARE(c.maxQueuedPerConnection(), 5);
    QCOMPARE(c.maxBufferedBytes(), qint64(3) << 30); // over an int
    QCOMPARE(c.maxBufferedWaitMs(), 0);
    QCOMPARE(c.frameReadTimeoutMs(), 1500);
    QCOMPARE(c.firstByteTimeoutMs(), 0);
    QCOMPARE(c.maxConnections(), 100);
    QCOMPARE(c.maxConnectionsPerHost(), 10);
    QCOMPARE(c.statusMaxConnections(), 8);
    QCOMPARE(c.maxEventQueueBytes(), qint64(5) << 30);

    for (const QString &key : RpcConfig::keys())
        QCOMPARE(c.sourceOf(key), QStringLiteral("API"));
}

void tst_RpcConfig::typedSettersRefuseValuesOutOfRange_data()
{
    QTest::addColumn<ConfigChange>("change");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("problem");

    using QS = QStringList;
    QTest::newRow("business threads 0") << ConfigChange([](RpcConfig &c) { c.setBusinessThreads(0); })
                                        << "business-thread" << "0 is out of range: must be at least 1";
    QTest::newRow("io threads 65") << ConfigChange([](RpcConfig &c) { c.setIoThreads(65); })
                                   << "io-threads" << "65 is out of range: must be between 1 and 64";
    QTest::newRow("max frame bytes over int") << ConfigChange([](RpcConfig &c) { c.setMaxFrameBytes(qint64(1) << 31); })
                                              << "max-frame-bytes"
                                              << "2147483648 is out of range: must be between 1024 and 2147483647";
    QTest::newRow("negative timeout") << ConfigChange([](RpcConfig &c) { c.setTimeoutMs(-1); })
                                      << "timeout-ms" << "-1 is out of range: must be at least 1";
    QTest::newRow("handshake timeout 10") << ConfigChange([](RpcConfig &c) { c.setTlsHandshakeTimeoutMs(10); })
                                          << "tls-handshake-timeout-ms" << "10 is out of range: must be at least 100";
    QTest::newRow("listen without port")
        << ConfigChange([](RpcConfig &c) { c.setListen(QS{"tls://0.0.0.0"}); })
        << "listen" << "'tls://0.0.0.0' is not of the form tls://host:port";
    QTest::newRow("allow-list naming nobody")
        << ConfigChange([](RpcConfig &c) { c.setTlsAllowedClients({{QStringLiteral("svc"), QS{}}}); })
        << "tls-allowed-clients" << "entry 'svc=' names nobody";
    QTest::newRow("unix access root")
        << ConfigChange([](RpcConfig &c) { c.setUnixSocketAccess(QStringLiteral("root")); })
        << "unix-socket-access" << "'root' is not one of: user, group, world";
    QTest::newRow("weight 0") << ConfigChange([](RpcConfig &c) { c.setWeight(0); })
                              << "weight" << "0 is out of range: must be between 1 and 1000";
    QTest::newRow("tiny buffer budget") << ConfigChange([](RpcConfig &c) { c.setMaxBufferedBytes(4096); })
                                        << "max-buffered-bytes" << "4096 is out of range: must be between 1048576 and 1099511627776";
    QTest::newRow("no status connections") << ConfigChange([](RpcConfig &c) { c.setStatusMaxConnections(0); })
                                           << "status-max-connections" << "0 is out of range: must be at least 1";
    QTest::newRow("empty stage") << ConfigChange([](RpcConfig &c) { c.setStage(QString()); })
                                 << "stage" << "must not be empty";
    QTest::newRow("host name as host") << ConfigChange([](RpcConfig &c) { c.setHost(QStringLiteral("localhost")); })
                                       << "host" << "'localhost' is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::, ::1)";
    QTest::newRow("unknown codec") << ConfigChange([](RpcConfig &c) { c.setCompression(QStringLiteral("brotli")); })
                                   << "compression" << "'brotli' is not one of: none, gzip, zstd";
    QTest::newRow("service listed twice")
        << ConfigChange([](RpcConfig &c) { c.setSubscribedServices(QS{"a", "a"}); })
        << "subscribed-services" << "'a' is listed twice";
    QTest::newRow("service with comma")
        << ConfigChange([](RpcConfig &c) { c.setSubscribedServices(QS{"a,b"}); })
        << "subscribed-services" << "entry 'a,b' contains ','";
    QTest::newRow("empty service")
        << ConfigChange([](RpcConfig &c) { c.setSubscribedServices(QS{"a", ""}); })
        << "subscribed-services" << "entry 2 is empty";
    QTest::newRow("empty group of a service")
        << ConfigChange([](RpcConfig &c) { c.setSubscribedServicesGroup({{QStringLiteral("a"), QString()}}); })
        << "subscribed-services-group" << "entry 'a:' has an empty group";
    QTest::newRow("ampersand in a group")
        << ConfigChange([](RpcConfig &c) { c.setSubscribedServicesGroup({{QStringLiteral("a"), QStringLiteral("x&b")}}); })
        << "subscribed-services-group" << "entry 'a:x&b': the group 'x&b' contains blanks around it, ':' or '&'";
    QTest::newRow("not a serialization")
        << ConfigChange([](RpcConfig &c) { c.setSerialization(Tomato::Serialization(7)); })
        << "serialization" << "7 is not a Serialization value";
}

void tst_RpcConfig::typedSettersRefuseValuesOutOfRange()
{
    QFETCH(ConfigChange, change);
    QFETCH(QString, key);
    QFETCH(QString, problem);

    RpcConfig c;
    const QString before = c.value(key);
    const std::optional<ConfigError> error = errorOf([&] { change(c); });
    QVERIFY(error);
    QCOMPARE(error->key(), key);
    QCOMPARE(error->source(), QStringLiteral("API"));
    QCOMPARE(error->problem(), problem);
    QCOMPARE(QString::fromStdString(error->what()), messagePrefix(key, QStringLiteral("API")) + problem);
    // A refused value changes nothing.
    QCOMPARE(c.value(key), before);
    QCOMPARE(c.sourceOf(key), QStringLiteral("default"));
}

void tst_RpcConfig::everyValueRoundTripsThroughSet()
{
    RpcConfig c = RpcConfig::load(
        {QStringLiteral("--tomato-rpc.subscribed-services= b , a "),
         QStringLiteral("--tomato-rpc.subscribed-services-group=z:1&a:2"),
         QStringLiteral("--tomato-rpc.serialization=CBOR"), QStringLiteral("--tomato-rpc.use-gzip=ON"),
         QStringLiteral("--tomato-rpc.port=007"), QStringLiteral("--tomato-rpc.micro-service-id=a b")},
        QProcessEnvironment());
    for (const QString &key : RpcConfig::keys()) {
        RpcConfig copy = c;
        copy.set(key, c.value(key));
        QCOMPARE(copy.value(key), c.value(key));
    }
    QCOMPARE(c.subscribedServices(), (QStringList{QStringLiteral("b"), QStringLiteral("a")})); // order is kept
    QCOMPARE(c.value(QStringLiteral("subscribed-services-group")), QStringLiteral("a:2&z:1"));
}

void tst_RpcConfig::genericAccessToAnUnknownKeyThrows_data()
{
    QTest::addColumn<ConfigChange>("access");
    const QString key = QStringLiteral("no-such-key");
    QTest::newRow("set") << ConfigChange([key](RpcConfig &c) { c.set(key, QString()); });
    QTest::newRow("value") << ConfigChange([key](RpcConfig &c) { c.value(key); });
    QTest::newRow("sourceOf") << ConfigChange([key](RpcConfig &c) { c.sourceOf(key); });
    QTest::newRow("description") << ConfigChange([key](RpcConfig &) { RpcConfig::description(key); });
    QTest::newRow("isImplemented") << ConfigChange([key](RpcConfig &) { RpcConfig::isImplemented(key); });
    QTest::newRow("defaultValue") << ConfigChange([key](RpcConfig &) { RpcConfig::defaultValue(key); });
    QTest::newRow("environmentVariable") << ConfigChange([key](RpcConfig &) { RpcConfig::environmentVariable(key); });
}

void tst_RpcConfig::genericAccessToAnUnknownKeyThrows()
{
    QFETCH(ConfigChange, access);
    RpcConfig c;
    const std::optional<ConfigError> error = errorOf([&] { access(c); });
    QVERIFY(error);
    QCOMPARE(error->key(), QStringLiteral("no-such-key"));
    QCOMPARE(error->source(), QStringLiteral("API"));
    QVERIFY2(error->problem().startsWith(QLatin1String("unknown key")), error->what());
}

void tst_RpcConfig::copiesAreIndependent()
{
    RpcConfig a;
    a.setPort(1);
    RpcConfig b = a;
    b.setPort(2);
    b.set(QStringLiteral("stage"), QStringLiteral("x"));
    QCOMPARE(a.port(), quint16(1));
    QCOMPARE(a.stage(), QStringLiteral("default"));
    QCOMPARE(a.sourceOf(QStringLiteral("stage")), QStringLiteral("default"));
    QCOMPARE(b.port(), quint16(2));
    a = b;
    QCOMPARE(a.stage(), QStringLiteral("x"));
}

void tst_RpcConfig::summaryShowsEveryKeyWithValueAndSource()
{
    const RpcConfig c = RpcConfig::load({QStringLiteral("--tomato-rpc.port=4567")}, QProcessEnvironment());
    const QStringList lines = c.summary().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), RpcConfig::keys().size());
    QVERIFY(lines.contains(QStringLiteral("port = 4567  (command line)")));
    QVERIFY(lines.contains(QStringLiteral("stage = default  (default)")));
    QVERIFY(lines.contains(QStringLiteral("micro-service-id = \"\"  (default)")));
}

QTEST_GUILESS_MAIN(tst_RpcConfig)
#include "tst_rpcconfig.moc"
