// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>
#include <tomato/core/serialization.h>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QVariant>
#include <stdexcept>

QT_BEGIN_NAMESPACE
class QCommandLineParser;
class QCoreApplication;
QT_END_NAMESPACE

namespace Tomato {

class RpcConfigData;

// A configuration value that cannot be used: a bad value, an unknown key, an unreadable or
// invalid file. what() always names the source ("file /etc/x.json", "environment variable
// TOMATO_RPC_PORT", "command line argument --tomato-rpc.port=abc", "API") and, when the
// problem is about one key, the key. A plain value type; thrown by RpcConfig.
class TOMATO_EXPORT ConfigError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
    // what() = "tomato-rpc config: key '<key>' from <source>: <problem>", or without the
    // key part when `key` is empty (a file that cannot be read, ...).
    ConfigError(const QString &key, const QString &source, const QString &problem);

    // The key the error is about, as it was written (an unknown key too); empty when the
    // error is not about one key.
    QString key() const { return m_key; }
    QString source() const { return m_source; }
    QString problem() const { return m_problem; }

private:
    QString m_key;
    QString m_source;
    QString m_problem;
};

// The settings of one RPC node (server, client or both), with the Tomato-RPC key names.
// Values come, in increasing precedence, from the defaults, a JSON file, TOMATO_RPC_*
// environment variables and --tomato-rpc.* command line arguments; each source overrides
// only the keys it names. Nothing is silently ignored or defaulted: an unknown key or a bad
// value in any source throws ConfigError naming the key and the source. Every key is
// described in docs/CONFIGURATION.md, which says which keys later issues put to use.
//
// A plain value type: copy it freely. Not synchronised: a const object may be read from
// any number of threads, a mutated one belongs to one thread. The static functions are
// thread-safe.
class TOMATO_EXPORT RpcConfig
{
public:
    RpcConfig(); // all defaults

    // The file is `filePath` if non-empty, else --tomato-rpc.config=<path> from `arguments`,
    // else TOMATO_RPC_CONFIG from `env`; none of them means no file. Arguments that do not
    // start with --tomato-rpc. are left alone, as is everything after a bare "--".
    // Throws ConfigError.
    static RpcConfig load(const QStringList &arguments,
                          const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(),
                          const QString &filePath = QString());
    // load(arguments, QProcessEnvironment::systemEnvironment()).
    static RpcConfig fromArguments(const QStringList &arguments);
    // The same on top of an application's own defaults: the keys `defaults` sets (from code,
    // source "API") become the starting point, with source "application"; the file, the
    // environment and the command line override them as they override the built-in ones.
    static RpcConfig load(const RpcConfig &defaults, const QStringList &arguments,
                          const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment(),
                          const QString &filePath = QString());

    // Command line programs.
    // Adds an option per key to `parser`, --tomato-rpc.<key> <value> (and --tomato-rpc.config
    // <file>), each described with its default, so that the program's --help lists them.
    // `defaults`: the application's own defaults, shown instead of the built-in ones.
    static void addOptionsTo(QCommandLineParser &parser, const RpcConfig &defaults = RpcConfig());
    // What a program's main() needs: adds --help, --version and the options above to `parser`
    // (which holds the program's own options), parses the application's arguments, and loads
    // the configuration over `defaults`. --help and --version print and exit with code 0; an
    // unknown option, a missing value or a bad configuration value prints one line to stderr
    // and exits with code 2. Positional arguments and the program's own options are then in
    // `parser`.
    static RpcConfig fromCommandLine(const QCoreApplication &app, QCommandLineParser &parser,
                                     const RpcConfig &defaults = RpcConfig());
    // True for the sources a user gives (a file, the environment, the command line, the API),
    // false for "default" and "application".
    bool isSetByUser(const QString &key) const;

    // Generic access by key name (as on the command line; the Tomato-RPC aliases
    // service-stage and service-group are accepted too). set() parses `value` as a command
    // line value would be parsed. All of them throw ConfigError (source "API") for an
    // unknown key or a bad value.
    void set(const QString &key, const QString &value);
    QString value(const QString &key) const; // canonical string form: set(k, value(k)) keeps the value
    // "default", "application", "file /x.json", "environment TOMATO_RPC_PORT",
    // "command line" or "API".
    QString sourceOf(const QString &key) const;

    static QStringList keys(); // all key names, in documentation order
    static QString description(const QString &key);
    static bool isImplemented(const QString &key);
    static QString defaultValue(const QString &key); // canonical string form
    static QString environmentVariable(const QString &key); // TOMATO_RPC_MICRO_SERVICE_ID

    // "key = value  (source)" lines, one per key, for a startup log.
    QString summary() const;

    // Typed access. Setters throw ConfigError (source "API") for a value out of range.
    // Every key is also reached through value() and set().
    QString microServiceId() const;
    void setMicroServiceId(const QString &id);
    QString nameServiceUri() const;
    void setNameServiceUri(const QString &uri);
    quint16 port() const;
    void setPort(quint16 port);
    QString host() const;
    void setHost(const QString &host);
    int businessThreads() const;
    void setBusinessThreads(int threads);
    QString stage() const;
    void setStage(const QString &stage);
    QString group() const;
    void setGroup(const QString &group);
    int serverIdleCheckMs() const;
    void setServerIdleCheckMs(int ms);
    QStringList subscribedServices() const;
    void setSubscribedServices(const QStringList &services);
    QHash<QString, QString> subscribedServicesGroup() const;
    void setSubscribedServicesGroup(const QHash<QString, QString> &groupByService);
    int clientKeepAliveMs() const;
    void setClientKeepAliveMs(int ms);
    bool useGzip() const;
    void setUseGzip(bool on);
    int ioThreads() const;
    void setIoThreads(int threads);
    qint64 maxFrameBytes() const;
    void setMaxFrameBytes(qint64 bytes);
    int timeoutMs() const;
    void setTimeoutMs(int ms);
    Serialization serialization() const;
    void setSerialization(Serialization s);
    QString advertiseHost() const;
    void setAdvertiseHost(const QString &host);
    // "none", "gzip" or "zstd". The effective codec: "gzip" when the stored value is "none"
    // and use-gzip is true. value("compression") is the stored value.
    QString compression() const;
    void setCompression(const QString &codec);
    int compressionThresholdBytes() const;
    void setCompressionThresholdBytes(int bytes);
    bool emptyProtection() const;
    void setEmptyProtection(bool on);
    int drainTimeoutMs() const;
    void setDrainTimeoutMs(int ms);
    int weight() const;
    void setWeight(int weight);
    int registrySessionTimeoutMs() const;
    void setRegistrySessionTimeoutMs(int ms);
    // "tcp" or "tls": the scheme of the server's host:port listener, and of client addresses
    // that name none.
    QString transport() const;
    void setTransport(const QString &scheme);
    // Addresses with a scheme; empty: the server listens on transport://host:port.
    QStringList listen() const;
    void setListen(const QStringList &addresses);
    QString tlsCert() const;
    void setTlsCert(const QString &path);
    QString tlsKey() const;
    void setTlsKey(const QString &path);
    QString tlsCa() const;
    void setTlsCa(const QString &path);
    bool tlsVerifyPeer() const;
    void setTlsVerifyPeer(bool on);
    bool tlsRequireClientCert() const;
    void setTlsRequireClientCert(bool on);
    // Per service (the interface's qualified name, or "*" for every service): the common names
    // of the client certificates that may call it ("*": any verified client certificate).
    QHash<QString, QStringList> tlsAllowedClients() const;
    void setTlsAllowedClients(const QHash<QString, QStringList> &subjectsByService);
    int tlsHandshakeTimeoutMs() const;
    void setTlsHandshakeTimeoutMs(int ms);
    // "user", "group" or "world": who may connect to the server's Unix sockets.
    QString unixSocketAccess() const;
    void setUnixSocketAccess(const QString &access);

    // The cluster client (docs/CLUSTER.md).
    bool enableCircuit() const;
    void setEnableCircuit(bool on);
    int circuitOpenRate() const; // percent
    void setCircuitOpenRate(int percent);
    int circuitOpenSeconds() const;
    void setCircuitOpenSeconds(int seconds);
    int circuitWindow() const; // calls
    void setCircuitWindow(int calls);
    int circuitMinCalls() const;
    void setCircuitMinCalls(int calls);
    int circuitHalfOpenCalls() const;
    void setCircuitHalfOpenCalls(int calls);
    int connectionsPerInstance() const;
    void setConnectionsPerInstance(int n);
    int connectTimeoutMs() const;
    void setConnectTimeoutMs(int ms);
    int reconnectBackoffMinMs() const;
    void setReconnectBackoffMinMs(int ms);
    int reconnectBackoffMaxMs() const;
    void setReconnectBackoffMaxMs(int ms);
    // "random", "round-robin", "least-in-flight" or "consistent-hash".
    QString loadBalance() const;
    void setLoadBalance(const QString &policy);
    QHash<QString, QString> loadBalanceByService() const; // micro-service id -> policy
    void setLoadBalanceByService(const QHash<QString, QString> &policyByService);
    // "failfast" or "failover".
    QString cluster() const;
    void setCluster(const QString &mode);
    // "service" or "service.method" -> mode; the most specific entry wins.
    QHash<QString, QString> clusterByMethod() const;
    void setClusterByMethod(const QHash<QString, QString> &modeByMethod);
    int retries() const;
    void setRetries(int retries);
    QHash<QString, QStringList> idempotentMethods() const; // micro-service id -> method names
    void setIdempotentMethods(const QHash<QString, QStringList> &methodsByService);
    int warmupSeconds() const;
    void setWarmupSeconds(int seconds);
    // The server's backpressure.
    int maxQueuedCalls() const;
    void setMaxQueuedCalls(int calls);
    int maxQueuedPerConnection() const;
    void setMaxQueuedPerConnection(int calls);
    // Status pages and introspection (docs/STATUS.md).
    bool statusEnabled() const;
    void setStatusEnabled(bool on);
    int statusPort() const; // 0: none
    void setStatusPort(int port);
    int statusRequestTimeoutMs() const;
    void setStatusRequestTimeoutMs(int ms);
    // A server's bounds against hostile or broken peers (docs/RELIABILITY.md).
    qint64 maxBufferedBytes() const;
    // Remote signals (docs/SIGNALS.md): what may wait unsent for one subscriber.
    qint64 maxEventQueueBytes() const;
    void setMaxEventQueueBytes(qint64 bytes);
    void setMaxBufferedBytes(qint64 bytes);
    int maxBufferedWaitMs() const; // 0: never close connections to make room
    void setMaxBufferedWaitMs(int ms);
    int frameReadTimeoutMs() const; // 0: none
    void setFrameReadTimeoutMs(int ms);
    int firstByteTimeoutMs() const; // 0: none
    void setFirstByteTimeoutMs(int ms);
    int maxConnections() const; // 0: derived from the descriptor limit (RpcServer::maxConnections())
    void setMaxConnections(int connections);
    int maxConnectionsPerHost() const; // 0: no limit
    void setMaxConnectionsPerHost(int connections);
    int statusMaxConnections() const;
    void setStatusMaxConnections(int connections);

    RpcConfig(const RpcConfig &other);
    RpcConfig &operator=(const RpcConfig &other);
    ~RpcConfig();

private:
    friend class RpcConfigLoader;
    void assign(int index, const QVariant &value, const QString &source);

    QSharedDataPointer<RpcConfigData> d;
};

} // namespace Tomato
