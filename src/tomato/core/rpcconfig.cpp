// SPDX-License-Identifier: Apache-2.0
#include <tomato/core/rpcconfig.h>

#include <tomato/core/endpoint.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QJsonParseError>
#include <QtCore/QJsonValue>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtNetwork/QHostAddress>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>

namespace Tomato {

namespace {

// How a key's value is parsed and validated.
enum class Type {
    String,         // any string, empty included
    NonEmptyString, // a name that must be there (stage, group)
    Address,        // an IP address literal, as QHostAddress parses it
    Int,            // strict decimal, in [min, max]
    Bool,           // true/false, 1/0, yes/no, on/off; JSON booleans
    Choice,         // one of `choices`, case-insensitive, stored in canonical form
    StringList,     // "a,b" or a JSON array of strings
    StringMap,      // "svcA:grp&svcB:grp" or a JSON object of strings
    EndpointList,   // a StringList whose entries are addresses with a scheme (Endpoint)
    ListMap,        // "svcA=x|y;svcB=z" or a JSON object of arrays of strings
};

// Keys in documentation order; keyTable below has one row per key, in this order.
enum class KeyId {
    MicroServiceId, NameServiceUri, Port, Host, BusinessThread, Stage, Group,
    ServerIdleCheckMs, SubscribedServices, SubscribedServicesGroup, ClientKeepAliveMs,
    UseGzip, EnableCircuit, CircuitOpenRate, CircuitOpenSeconds, CircuitWindow,
    IoThreads, MaxFrameBytes, TimeoutMs, Serialization, AdvertiseHost, Compression,
    CompressionThresholdBytes, EmptyProtection, DrainTimeoutMs, Weight, RegistrySessionTimeoutMs,
    Transport, Listen, TlsCert, TlsKey, TlsCa, TlsVerifyPeer, TlsRequireClientCert, TlsAllowedClients,
    TlsHandshakeTimeoutMs, UnixSocketAccess,
    ConnectionsPerInstance, ConnectTimeoutMs, ReconnectBackoffMinMs, ReconnectBackoffMaxMs,
    LoadBalance, LoadBalanceByService, Cluster, ClusterByMethod, Retries, IdempotentMethods,
    CircuitMinCalls, CircuitHalfOpenCalls, WarmupSeconds, MaxQueuedCalls, MaxQueuedPerConnection,
    StatusEnabled, StatusPort, StatusRequestTimeoutMs,
    MaxBufferedBytes, MaxBufferedWaitMs, FrameReadTimeoutMs, FirstByteTimeoutMs, MaxConnections,
    MaxConnectionsPerHost, StatusMaxConnections, MaxEventQueueBytes,
    Count
};

struct KeyInfo
{
    KeyId id;
    const char *name;
    Type type;
    qint64 min; // Int only
    qint64 max;
    const char *choices;     // Choice only: "binary|json|cbor=binary" (cbor is a synonym)
    const char *defaultText; // in the command line syntax; nullptr: computed (business-thread)
    bool implemented;
    const char *alias;       // the name Tomato-RPC's documentation also uses, or nullptr
    const char *description;
};

constexpr qint64 IntMax = std::numeric_limits<int>::max();

// The one place that defines the keys: adding a key is one row here (plus an entry in
// KeyId and, if wanted, a typed getter and setter).
constexpr KeyInfo keyTable[] = {
    {KeyId::MicroServiceId, "micro-service-id", Type::String, 0, 0, nullptr, "", true, nullptr,
     "Id of the micro-service this node provides; clients subscribe to it. Empty for a node that only calls."},
    {KeyId::NameServiceUri, "name-service-uri", Type::String, 0, 0, nullptr, "", true, nullptr,
     "Registry URI: zookeeper://[user:password@]host:port[,host:port...] (a bare host:port list is ZooKeeper too) or static://host:port[,...]. Empty: no registry, direct stubs only."},
    {KeyId::Port, "port", Type::Int, 0, 65535, nullptr, "0", true, nullptr,
     "Port the server listens on (with host and transport, unless listen is set); 0 picks any free port."},
    {KeyId::Host, "host", Type::Address, 0, 0, nullptr, "0.0.0.0", true, nullptr,
     "IP address the server listens on; 0.0.0.0 is every IPv4 interface, :: every interface."},
    {KeyId::BusinessThread, "business-thread", Type::Int, 1, IntMax, nullptr, nullptr, true, nullptr,
     "Threads of the business pool that runs service methods. Default: max(2, ideal thread count)."},
    {KeyId::Stage, "stage", Type::NonEmptyString, 0, 0, nullptr, "default", true, "service-stage",
     "Environment this node belongs to (dev, test, prod...); clients only call providers of their own stage."},
    {KeyId::Group, "group", Type::NonEmptyString, 0, 0, nullptr, "default", true, "service-group",
     "Group within the stage (e.g. a canary group); clients call providers of their own group by default."},
    {KeyId::ServerIdleCheckMs, "server-idle-check-ms", Type::Int, 0, IntMax, nullptr, "60000", true, nullptr,
     "A server closes a connection that sent nothing for this many milliseconds; 0 = never."},
    {KeyId::SubscribedServices, "subscribed-services", Type::StringList, 0, 0, nullptr, "", true, nullptr,
     "Micro-service ids whose instances this client fetches from the registry (comma-separated)."},
    {KeyId::SubscribedServicesGroup, "subscribed-services-group", Type::StringMap, 0, 0, nullptr, "", true, nullptr,
     "Per subscribed service, the group to call instead of the own group: svcA:grp&svcB:grp."},
    {KeyId::ClientKeepAliveMs, "client-keep-alive-ms", Type::Int, 0, IntMax, nullptr, "20000", true, nullptr,
     "A client sends a heartbeat on a connection idle for this many milliseconds; 0 = never."},
    {KeyId::UseGzip, "use-gzip", Type::Bool, 0, 0, nullptr, "false", true, nullptr,
     "Tomato-RPC's compression switch: true means compression=gzip while compression is none."},
    {KeyId::EnableCircuit, "enable-circuit", Type::Bool, 0, 0, nullptr, "true", true, nullptr,
     "Whether a circuit breaker per instance stops calls to an instance that keeps failing."},
    {KeyId::CircuitOpenRate, "circuit-open-rate", Type::Int, 1, 100, nullptr, "50", true, nullptr,
     "Failure rate, in percent of the window, at which an instance's circuit opens (counting only instance-health failures)."},
    {KeyId::CircuitOpenSeconds, "circuit-open-seconds", Type::Int, 1, IntMax, nullptr, "10", true, nullptr,
     "Seconds an open circuit refuses calls before it lets circuit-half-open-calls trial calls through."},
    {KeyId::CircuitWindow, "circuit-window", Type::Int, 1, 100000, nullptr, "100", true, nullptr,
     "Number of most recent calls of an instance the failure rate is computed over."},
    {KeyId::IoThreads, "io-threads", Type::Int, 1, 64, nullptr, "2", true, nullptr,
     "Event-loop threads that own the sockets; each connection lives on one of them."},
    {KeyId::MaxFrameBytes, "max-frame-bytes", Type::Int, 1024, IntMax, nullptr, "16777216", true, nullptr,
     "Largest frame sent or accepted, in bytes; a larger one is refused."},
    {KeyId::TimeoutMs, "timeout-ms", Type::Int, 1, IntMax, nullptr, "5000", true, nullptr,
     "Call timeout of stubs, in milliseconds, for calls that do not set their own."},
    {KeyId::Serialization, "serialization", Type::Choice, 0, 0, "binary|json|cbor=binary", "binary", true, nullptr,
     "Body encoding of outgoing calls: binary (CBOR) or json."},
    {KeyId::AdvertiseHost, "advertise-host", Type::String, 0, 0, nullptr, "", true, nullptr,
     "Host name or address published in the registry for clients to connect to; empty: derived from host."},
    {KeyId::Compression, "compression", Type::Choice, 0, 0, "none|gzip|zstd", "none", true, nullptr,
     "Codec for outgoing bodies of at least compression-threshold-bytes: none, gzip or zstd."},
    {KeyId::CompressionThresholdBytes, "compression-threshold-bytes", Type::Int, 0, IntMax, nullptr, "1024", true, nullptr,
     "Bodies smaller than this many bytes are sent uncompressed."},
    {KeyId::EmptyProtection, "empty-protection", Type::Bool, 0, 0, nullptr, "true", true, nullptr,
     "When the registry suddenly lists no instance of a service, keep calling the last known ones."},
    {KeyId::DrainTimeoutMs, "drain-timeout-ms", Type::Int, 0, IntMax, nullptr, "10000", true, nullptr,
     "On a graceful stop, milliseconds the server waits for calls in flight before closing connections."},
    {KeyId::Weight, "weight", Type::Int, 1, 1000, nullptr, "100", true, nullptr,
     "Load balancing weight of this instance, published in the registry."},
    {KeyId::RegistrySessionTimeoutMs, "registry-session-timeout-ms", Type::Int, 1000, 600000, nullptr, "10000", true, nullptr,
     "ZooKeeper session timeout: how long after a server dies its registration disappears."},
    {KeyId::Transport, "transport", Type::Choice, 0, 0, "tcp|tls", "tcp", true, nullptr,
     "Scheme of the server's host:port listener, and of client addresses written without one: tcp or tls."},
    {KeyId::Listen, "listen", Type::EndpointList, 0, 0, nullptr, "", true, nullptr,
     "Addresses the server listens on, each with its scheme: tcp://0.0.0.0:4567,tls://0.0.0.0:4568,unix:///run/x.sock. Empty: transport://host:port."},
    {KeyId::TlsCert, "tls-cert", Type::String, 0, 0, nullptr, "", true, nullptr,
     "PEM file with this node's certificate (and its chain): a TLS server's own, or a client's for mutual TLS."},
    {KeyId::TlsKey, "tls-key", Type::String, 0, 0, nullptr, "", true, nullptr,
     "PEM file with the private key of tls-cert (unencrypted)."},
    {KeyId::TlsCa, "tls-ca", Type::String, 0, 0, nullptr, "", true, nullptr,
     "PEM file of the certificate authorities that peers' certificates must chain to; empty: the system's."},
    {KeyId::TlsVerifyPeer, "tls-verify-peer", Type::Bool, 0, 0, nullptr, "true", true, nullptr,
     "Verify the peer's certificate: a client checks the server's chain and host name. Off only for tests."},
    {KeyId::TlsRequireClientCert, "tls-require-client-cert", Type::Bool, 0, 0, nullptr, "false", true, nullptr,
     "A TLS server accepts only clients with a certificate that chains to tls-ca (mutual TLS)."},
    {KeyId::TlsAllowedClients, "tls-allowed-clients", Type::ListMap, 0, 0, nullptr, "", true, nullptr,
     "Per service (or * for all), the client certificate common names that may call it: Sample::EchoService=client-a|client-b;*=admin."},
    {KeyId::TlsHandshakeTimeoutMs, "tls-handshake-timeout-ms", Type::Int, 100, IntMax, nullptr, "10000", true, nullptr,
     "A TLS connection whose handshake has not finished after this many milliseconds is closed."},
    {KeyId::UnixSocketAccess, "unix-socket-access", Type::Choice, 0, 0, "user|group|world", "user", true, nullptr,
     "Who may connect to the server's Unix sockets: the user (mode 0600), also its group (0660), or everyone (0666)."},
    {KeyId::ConnectionsPerInstance, "connections-per-instance", Type::Int, 1, 64, nullptr, "1", true, nullptr,
     "Connections a cluster client keeps to each instance; calls are spread over them."},
    {KeyId::ConnectTimeoutMs, "connect-timeout-ms", Type::Int, 1, IntMax, nullptr, "3000", true, nullptr,
     "A connection (TCP, TLS handshake included, or Unix) not made within this many milliseconds fails with ConnectFailed."},
    {KeyId::ReconnectBackoffMinMs, "reconnect-backoff-min-ms", Type::Int, 0, IntMax, nullptr, "100", true, nullptr,
     "After a failed connect, a cluster instance is skipped for this long; the wait doubles per failure, with jitter."},
    {KeyId::ReconnectBackoffMaxMs, "reconnect-backoff-max-ms", Type::Int, 0, IntMax, nullptr, "10000", true, nullptr,
     "The longest wait between connect attempts to a cluster instance."},
    {KeyId::LoadBalance, "load-balance", Type::Choice, 0, 0, "random|round-robin|least-in-flight|consistent-hash", "random", true, nullptr,
     "How a cluster call picks its instance: random (weighted), round-robin (smooth weighted), least-in-flight (power of two choices) or consistent-hash."},
    {KeyId::LoadBalanceByService, "load-balance-by-service", Type::StringMap, 0, 0, nullptr, "", true, nullptr,
     "Per micro-service, a load-balance policy other than load-balance: svcA:round-robin&svcB:consistent-hash."},
    {KeyId::Cluster, "cluster", Type::Choice, 0, 0, "failfast|failover", "failfast", true, nullptr,
     "What a failed cluster call does: failfast reports the error; failover retries other instances when the error allows it."},
    {KeyId::ClusterByMethod, "cluster-by-method", Type::StringMap, 0, 0, nullptr, "", true, nullptr,
     "Per micro-service or micro-service.method, a cluster mode other than cluster: svcA:failover&svcB.charge:failfast."},
    {KeyId::Retries, "retries", Type::Int, 0, 10, nullptr, "2", true, nullptr,
     "With failover, how many other attempts a call may make after its first (the call's deadline bounds them all)."},
    {KeyId::IdempotentMethods, "idempotent-methods", Type::ListMap, 0, 0, nullptr, "", true, nullptr,
     "Per micro-service, methods safe to run twice (added to the interface's Q_CLASSINFO idempotent): svcA=echo|sum;svcB=get."},
    {KeyId::CircuitMinCalls, "circuit-min-calls", Type::Int, 1, IntMax, nullptr, "20", true, nullptr,
     "Calls an instance's window must hold before its failure rate can open the circuit."},
    {KeyId::CircuitHalfOpenCalls, "circuit-half-open-calls", Type::Int, 1, IntMax, nullptr, "3", true, nullptr,
     "Trial calls a half-open circuit lets through; all succeeding closes it, one failing opens it again."},
    {KeyId::WarmupSeconds, "warmup-seconds", Type::Int, 0, IntMax, nullptr, "30", true, nullptr,
     "A freshly started instance's weight ramps up over this many seconds of its uptime; 0 = full weight at once."},
    {KeyId::MaxQueuedCalls, "max-queued-calls", Type::Int, 1, IntMax, nullptr, "10000", true, nullptr,
     "Calls a server holds waiting for its business threads; past it new calls are answered Overloaded."},
    {KeyId::MaxQueuedPerConnection, "max-queued-per-connection", Type::Int, 1, IntMax, nullptr, "2000", true, nullptr,
     "Calls one connection may have waiting for the business threads; past it its new calls are answered Overloaded."},
    {KeyId::StatusEnabled, "status-enabled", Type::Bool, 0, 0, nullptr, "true", true, nullptr,
     "Whether the server answers HTTP status requests on its RPC addresses and publishes the built-in Tomato::Introspection service."},
    {KeyId::StatusPort, "status-port", Type::Int, 0, 65535, nullptr, "0", true, nullptr,
     "A separate plain-HTTP port (on host) for the status pages, e.g. for a client-only process; 0 = none."},
    {KeyId::StatusRequestTimeoutMs, "status-request-timeout-ms", Type::Int, 100, IntMax, nullptr, "10000", true, nullptr,
     "An HTTP status request must arrive whole within this many milliseconds (and an idle keep-alive connection closes after it)."},
    {KeyId::MaxBufferedBytes, "max-buffered-bytes", Type::Int, 1 << 20, qint64(1) << 40, nullptr, "268435456", true, nullptr,
     "Memory, in bytes, all connections of a server share for requests not received whole yet, requests waiting or running, and answers not sent yet; a connection whose next frame does not fit stops reading until room frees up."},
    {KeyId::MaxBufferedWaitMs, "max-buffered-wait-ms", Type::Int, 0, IntMax, nullptr, "2000", true, nullptr,
     "Once a connection has waited this many milliseconds for room in max-buffered-bytes, the server closes the connections holding the largest unfinished frames; 0 = never."},
    {KeyId::FrameReadTimeoutMs, "frame-read-timeout-ms", Type::Int, 0, IntMax, nullptr, "30000", true, nullptr,
     "A frame must arrive whole within this many milliseconds of its first byte, or the server closes the connection; 0 = no limit."},
    {KeyId::FirstByteTimeoutMs, "first-byte-timeout-ms", Type::Int, 0, IntMax, nullptr, "10000", true, nullptr,
     "A new connection to a server must send its first byte within this many milliseconds, or it is closed; 0 = no limit."},
    {KeyId::MaxConnections, "max-connections", Type::Int, 0, IntMax, nullptr, "0", true, nullptr,
     "Connections a server holds at once; more are accepted and closed at once with an Error frame (an HTTP request: 503). 0 = derived from the descriptor limit."},
    {KeyId::MaxConnectionsPerHost, "max-connections-per-host", Type::Int, 0, IntMax, nullptr, "0", true, nullptr,
     "Connections a server holds at once from one remote address (Unix sockets are not counted); 0 = no limit but max-connections."},
    {KeyId::StatusMaxConnections, "status-max-connections", Type::Int, 1, IntMax, nullptr, "64", true, nullptr,
     "Connections the separate status-port holds at once; more are answered 503 and closed."},
    {KeyId::MaxEventQueueBytes, "max-event-queue-bytes", Type::Int, 4096, qint64(1) << 40, nullptr, "4194304", true, nullptr,
     "Bytes of remote-signal events and answers a server lets wait unsent for one subscriber; past it that subscriber's subscription ends (Unsubscribe 216)."},
};

constexpr int KeyCount = int(std::size(keyTable));
static_assert(KeyCount == int(KeyId::Count), "one keyTable row per KeyId");

constexpr bool keyTableIsInKeyIdOrder()
{
    for (int i = 0; i < KeyCount; ++i) {
        if (int(keyTable[i].id) != i)
            return false;
    }
    return true;
}
static_assert(keyTableIsInKeyIdOrder(), "keyTable rows must follow the KeyId order");

constexpr int index(KeyId id) { return int(id); }

constexpr QLatin1String ConfigArgument("config");
constexpr QLatin1String ConfigVariable("TOMATO_RPC_CONFIG");
constexpr QLatin1String ArgumentPrefix("--tomato-rpc.");
constexpr QLatin1String VariablePrefix("TOMATO_RPC_");
constexpr QLatin1String ApiSource("API");

QString keyName(const KeyInfo &k) { return QString::fromLatin1(k.name); }

QString environmentName(const char *key)
{
    return QString(VariablePrefix) + QString::fromLatin1(key).toUpper().replace(QLatin1Char('-'), QLatin1Char('_'));
}

QString quoted(const QString &s) { return QLatin1Char('\'') + s + QLatin1Char('\''); }

// Index of the key called `name` (or its alias), -1 if none.
int indexOfKey(QStringView name)
{
    for (int i = 0; i < KeyCount; ++i) {
        if (name == QLatin1String(keyTable[i].name)
            || (keyTable[i].alias && name == QLatin1String(keyTable[i].alias)))
            return i;
    }
    return -1;
}

int indexOfVariable(const QString &variable)
{
    for (int i = 0; i < KeyCount; ++i) {
        if (variable == environmentName(keyTable[i].name)
            || (keyTable[i].alias && variable == environmentName(keyTable[i].alias)))
            return i;
    }
    return -1;
}

int editDistance(const QString &a, const QString &b)
{
    QList<int> row(b.size() + 1);
    for (int j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (int i = 1; i <= a.size(); ++i) {
        int diagonal = row[0];
        row[0] = i;
        for (int j = 1; j <= b.size(); ++j) {
            const int above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

QString unknownKeyProblem(const QString &name)
{
    QString best;
    int bestDistance = 3; // suggest only near misses
    QStringList names;
    for (const KeyInfo &k : keyTable) {
        names << keyName(k);
        for (const char *candidate : {k.name, k.alias}) {
            // The distance is at least the difference in length: a long wrong key (fuzzing
            // found 1 KiB ones taking milliseconds) is not compared with every name.
            if (!candidate || std::abs(name.size() - qsizetype(std::strlen(candidate))) >= bestDistance)
                continue;
            const int d = editDistance(name, QString::fromLatin1(candidate));
            if (d < bestDistance) {
                bestDistance = d;
                best = QString::fromLatin1(candidate);
            }
        }
    }
    if (!best.isEmpty())
        return QStringLiteral("unknown key (did you mean '%1'?)").arg(best);
    return QStringLiteral("unknown key (known keys: %1)").arg(names.join(QLatin1String(", ")));
}

[[noreturn]] void fail(const QString &key, const QString &source, const QString &problem)
{
    throw ConfigError(key, source, problem);
}

const KeyInfo &keyOrThrow(const QString &key)
{
    const int i = indexOfKey(key);
    if (i < 0)
        fail(key, QString(ApiSource), unknownKeyProblem(key));
    return keyTable[i];
}

// ---- validation shared by every source -------------------------------------------------

// "No upper bound" is the largest int: say so only for values above it.
QString rangeText(const KeyInfo &k, bool belowMin)
{
    if (k.max == IntMax && belowMin)
        return QStringLiteral("must be at least %1").arg(k.min);
    return QStringLiteral("must be between %1 and %2").arg(k.min).arg(k.max);
}

bool checkInt(const KeyInfo &k, qint64 n, const QString &shown, QString *problem)
{
    if (n < k.min || n > k.max) {
        *problem = QStringLiteral("%1 is out of range: %2").arg(shown, rangeText(k, n < k.min));
        return false;
    }
    return true;
}

bool checkString(const KeyInfo &k, const QString &s, QString *problem)
{
    switch (k.type) {
    case Type::NonEmptyString:
        if (s.trimmed().isEmpty()) {
            *problem = QStringLiteral("must not be empty");
            return false;
        }
        return true;
    case Type::Address:
        if (QHostAddress(s).isNull()) {
            *problem = QStringLiteral("%1 is not an IP address (e.g. 0.0.0.0, 127.0.0.1, ::, ::1)")
                           .arg(quoted(s));
            return false;
        }
        return true;
    default:
        return true;
    }
}

// Entries given one by one (JSON array, API) must be exactly what is meant: not empty, no
// surrounding blanks, and no ',' so that the comma-separated form round-trips.
bool checkList(const QStringList &entries, QString *problem)
{
    QSet<QString> seen;
    for (int i = 0; i < entries.size(); ++i) {
        const QString &e = entries.at(i);
        if (e.trimmed().isEmpty()) {
            *problem = QStringLiteral("entry %1 is empty").arg(i + 1);
            return false;
        }
        if (e.trimmed() != e) {
            *problem = QStringLiteral("entry %1 has blanks around it").arg(quoted(e));
            return false;
        }
        if (e.contains(QLatin1Char(','))) {
            *problem = QStringLiteral("entry %1 contains ','").arg(quoted(e));
            return false;
        }
        if (seen.contains(e)) {
            *problem = QStringLiteral("%1 is listed twice").arg(quoted(e));
            return false;
        }
        seen.insert(e);
    }
    return true;
}

bool checkMapPart(const QString &part, const QString &what, const QString &entry, QString *problem)
{
    if (part.trimmed().isEmpty()) {
        *problem = QStringLiteral("entry %1 has an empty %2").arg(quoted(entry), what);
        return false;
    }
    if (part.trimmed() != part || part.contains(QLatin1Char(':')) || part.contains(QLatin1Char('&'))) {
        *problem = QStringLiteral("entry %1: the %2 %3 contains blanks around it, ':' or '&'")
                       .arg(quoted(entry), what, quoted(part));
        return false;
    }
    return true;
}

bool checkMap(const QHash<QString, QString> &map, QString *problem)
{
    QStringList services = map.keys();
    services.sort(); // report the same entry every time
    for (const QString &service : std::as_const(services)) {
        const QString entry = service + QLatin1Char(':') + map.value(service);
        if (!checkMapPart(service, QStringLiteral("service"), entry, problem)
            || !checkMapPart(map.value(service), QStringLiteral("group"), entry, problem))
            return false;
    }
    return true;
}

bool checkEndpoints(const QStringList &entries, QString *problem)
{
    if (!checkList(entries, problem))
        return false;
    for (const QString &e : entries) {
        QString why;
        if (!Endpoint::fromString(e, QStringLiteral("tcp"), &why).isValid()) {
            *problem = why;
            return false;
        }
    }
    return true;
}

// Separators of the ListMap text form: entries, service from names, names from each other.
constexpr QChar ListMapEntries(u';');
constexpr QChar ListMapEquals(u'=');
constexpr QChar ListMapNames(u'|');

bool checkListMapPart(const QString &part, const QString &what, const QString &entry, QString *problem)
{
    if (part.trimmed().isEmpty()) {
        *problem = QStringLiteral("entry %1 has an empty %2").arg(quoted(entry), what);
        return false;
    }
    if (part.trimmed() != part || part.contains(ListMapEntries) || part.contains(ListMapNames)) {
        *problem = QStringLiteral("entry %1: the %2 %3 has blanks around it, ';' or '|'")
                       .arg(quoted(entry), what, quoted(part));
        return false;
    }
    return true;
}

bool checkListMap(const QHash<QString, QStringList> &map, QString *problem)
{
    QStringList services = map.keys();
    services.sort(); // report the same entry every time
    for (const QString &service : std::as_const(services)) {
        const QStringList names = map.value(service);
        const QString entry = service + ListMapEquals + names.join(ListMapNames);
        if (!checkListMapPart(service, QStringLiteral("service"), entry, problem))
            return false;
        if (service.contains(ListMapEquals)) {
            *problem = QStringLiteral("entry %1: the service contains '='").arg(quoted(entry));
            return false;
        }
        if (names.isEmpty()) {
            *problem = QStringLiteral("entry %1 names nobody").arg(quoted(entry));
            return false;
        }
        for (const QString &name : names) {
            if (!checkListMapPart(name, QStringLiteral("name"), entry, problem))
                return false;
        }
    }
    return true;
}

std::optional<QVariant> listMapFromText(const QString &text, QString *problem)
{
    QHash<QString, QStringList> map;
    if (!text.trimmed().isEmpty()) {
        const QStringList entries = text.split(ListMapEntries);
        for (int i = 0; i < entries.size(); ++i) {
            const QString entry = entries.at(i).trimmed();
            const qsizetype eq = entry.indexOf(ListMapEquals);
            if (entry.isEmpty()) {
                *problem = QStringLiteral("entry %1 of %2 is empty").arg(i + 1).arg(quoted(text));
                return std::nullopt;
            }
            if (eq < 0) {
                *problem = QStringLiteral("entry %1 is not of the form service=name|name").arg(quoted(entry));
                return std::nullopt;
            }
            const QString service = entry.left(eq).trimmed();
            if (map.contains(service)) {
                *problem = QStringLiteral("service %1 is given twice").arg(quoted(service));
                return std::nullopt;
            }
            QStringList names;
            for (const QString &name : entry.mid(eq + 1).split(ListMapNames))
                names << name.trimmed();
            map.insert(service, names);
        }
    }
    if (!checkListMap(map, problem))
        return std::nullopt;
    return QVariant::fromValue(map);
}

// ---- parsing -----------------------------------------------------------------------------

std::optional<QVariant> fromText(const KeyInfo &k, const QString &text, QString *problem)
{
    switch (k.type) {
    case Type::String:
    case Type::NonEmptyString:
    case Type::Address:
        if (!checkString(k, text, problem))
            return std::nullopt;
        return QVariant(text);
    case Type::Int: {
        const bool negative = text.startsWith(QLatin1Char('-'));
        const QStringView digits = QStringView(text).mid(negative ? 1 : 0);
        const bool decimal = !digits.isEmpty()
            && std::all_of(digits.begin(), digits.end(),
                           [](QChar c) { return c >= QLatin1Char('0') && c <= QLatin1Char('9'); });
        if (!decimal) {
            *problem = QStringLiteral("%1 is not an integer").arg(quoted(text));
            return std::nullopt;
        }
        bool ok = false;
        const qint64 n = text.toLongLong(&ok, 10);
        if (!ok) { // too many digits for 64 bits
            *problem = QStringLiteral("%1 is out of range: %2").arg(quoted(text), rangeText(k, negative));
            return std::nullopt;
        }
        if (!checkInt(k, n, quoted(text), problem))
            return std::nullopt;
        return QVariant(n);
    }
    case Type::Bool: {
        const QString t = text.toLower();
        if (t == QLatin1String("true") || t == QLatin1String("1") || t == QLatin1String("yes")
            || t == QLatin1String("on"))
            return QVariant(true);
        if (t == QLatin1String("false") || t == QLatin1String("0") || t == QLatin1String("no")
            || t == QLatin1String("off"))
            return QVariant(false);
        *problem = QStringLiteral("%1 is not a boolean (true/false, yes/no, on/off, 1/0)").arg(quoted(text));
        return std::nullopt;
    }
    case Type::Choice: {
        QStringList names;
        const QStringList choices = QString::fromLatin1(k.choices).split(QLatin1Char('|'));
        for (const QString &choice : choices) {
            const QString name = choice.section(QLatin1Char('='), 0, 0);
            const QString canonical = choice.contains(QLatin1Char('='))
                ? choice.section(QLatin1Char('='), 1) : name;
            if (text.compare(name, Qt::CaseInsensitive) == 0)
                return QVariant(canonical);
            names << name;
        }
        *problem = QStringLiteral("%1 is not one of: %2").arg(quoted(text), names.join(QLatin1String(", ")));
        return std::nullopt;
    }
    case Type::ListMap:
        return listMapFromText(text, problem);
    case Type::StringList:
    case Type::EndpointList: {
        QStringList entries;
        if (!text.trimmed().isEmpty()) {
            const QStringList parts = text.split(QLatin1Char(','));
            for (int i = 0; i < parts.size(); ++i) {
                if (parts.at(i).trimmed().isEmpty()) {
                    *problem = QStringLiteral("entry %1 of %2 is empty").arg(i + 1).arg(quoted(text));
                    return std::nullopt;
                }
                entries << parts.at(i).trimmed();
            }
        }
        if (!(k.type == Type::EndpointList ? checkEndpoints(entries, problem) : checkList(entries, problem)))
            return std::nullopt;
        return QVariant(entries);
    }
    case Type::StringMap: {
        QHash<QString, QString> map;
        if (!text.trimmed().isEmpty()) {
            const QStringList entries = text.split(QLatin1Char('&'));
            for (int i = 0; i < entries.size(); ++i) {
                const QString entry = entries.at(i).trimmed();
                if (entry.isEmpty()) {
                    *problem = QStringLiteral("entry %1 of %2 is empty").arg(i + 1).arg(quoted(text));
                    return std::nullopt;
                }
                if (entry.count(QLatin1Char(':')) != 1) {
                    *problem = QStringLiteral("entry %1 is not of the form service:group").arg(quoted(entry));
                    return std::nullopt;
                }
                const QString service = entry.section(QLatin1Char(':'), 0, 0).trimmed();
                const QString group = entry.section(QLatin1Char(':'), 1).trimmed();
                if (!checkMapPart(service, QStringLiteral("service"), entry, problem)
                    || !checkMapPart(group, QStringLiteral("group"), entry, problem))
                    return std::nullopt;
                if (map.contains(service)) {
                    *problem = QStringLiteral("service %1 is given a group twice").arg(quoted(service));
                    return std::nullopt;
                }
                map.insert(service, group);
            }
        }
        return QVariant::fromValue(map);
    }
    }
    Q_UNREACHABLE();
    return std::nullopt;
}

QString describeJson(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean (%1)").arg(v.toBool() ? QLatin1String("true") : QLatin1String("false"));
    case QJsonValue::Double: return QStringLiteral("a number (%1)").arg(v.toDouble(), 0, 'g', 17);
    case QJsonValue::String: return QStringLiteral("a string (\"%1\")").arg(v.toString());
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

std::optional<QVariant> wrongType(const char *expected, const QJsonValue &v, QString *problem)
{
    *problem = QStringLiteral("expected %1, found %2").arg(QLatin1String(expected), describeJson(v));
    return std::nullopt;
}

std::optional<QVariant> fromJson(const KeyInfo &k, const QJsonValue &v, QString *problem)
{
    switch (k.type) {
    case Type::String:
    case Type::NonEmptyString:
    case Type::Address:
    case Type::Choice:
        if (!v.isString())
            return wrongType("a string", v, problem);
        return fromText(k, v.toString(), problem);
    case Type::Int: {
        if (!v.isDouble())
            return wrongType("an integer", v, problem);
        const double d = v.toDouble();
        const QString shown = QString::number(d, 'g', 17);
        if (!std::isfinite(d) || std::trunc(d) != d) {
            *problem = QStringLiteral("%1 is not an integer").arg(shown);
            return std::nullopt;
        }
        // Compare as doubles first: converting an out-of-range double is undefined.
        if (d < double(k.min) || d > double(k.max)) {
            *problem = QStringLiteral("%1 is out of range: %2").arg(shown, rangeText(k, d < double(k.min)));
            return std::nullopt;
        }
        return QVariant(qint64(d));
    }
    case Type::Bool:
        if (!v.isBool())
            return wrongType("a boolean (true or false)", v, problem);
        return QVariant(v.toBool());
    case Type::StringList:
    case Type::EndpointList: {
        if (v.isString())
            return fromText(k, v.toString(), problem);
        if (!v.isArray())
            return wrongType("an array of strings or a comma-separated string", v, problem);
        QStringList entries;
        const QJsonArray array = v.toArray();
        for (int i = 0; i < array.size(); ++i) {
            if (!array.at(i).isString()) {
                *problem = QStringLiteral("entry %1 is not a string: found %2").arg(i + 1).arg(describeJson(array.at(i)));
                return std::nullopt;
            }
            entries << array.at(i).toString();
        }
        if (!(k.type == Type::EndpointList ? checkEndpoints(entries, problem) : checkList(entries, problem)))
            return std::nullopt;
        return QVariant(entries);
    }
    case Type::ListMap: {
        if (v.isString())
            return fromText(k, v.toString(), problem);
        if (!v.isObject())
            return wrongType("an object of service: [names] or a svc=a|b;svc=c string", v, problem);
        QHash<QString, QStringList> map;
        const QJsonObject object = v.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!it.value().isArray()) {
                *problem = QStringLiteral("the names of service %1 are not an array: found %2")
                               .arg(quoted(it.key()), describeJson(it.value()));
                return std::nullopt;
            }
            QStringList names;
            for (const QJsonValue &name : it.value().toArray()) {
                if (!name.isString()) {
                    *problem = QStringLiteral("a name of service %1 is not a string: found %2")
                                   .arg(quoted(it.key()), describeJson(name));
                    return std::nullopt;
                }
                names << name.toString();
            }
            map.insert(it.key(), names);
        }
        if (!checkListMap(map, problem))
            return std::nullopt;
        return QVariant::fromValue(map);
    }
    case Type::StringMap: {
        if (v.isString())
            return fromText(k, v.toString(), problem);
        if (!v.isObject())
            return wrongType("an object of service: group strings or a svc:grp&svc:grp string", v, problem);
        QHash<QString, QString> map;
        const QJsonObject object = v.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!it.value().isString()) {
                *problem = QStringLiteral("the group of service %1 is not a string: found %2")
                               .arg(quoted(it.key()), describeJson(it.value()));
                return std::nullopt;
            }
            map.insert(it.key(), it.value().toString());
        }
        if (!checkMap(map, problem))
            return std::nullopt;
        return QVariant::fromValue(map);
    }
    }
    Q_UNREACHABLE();
    return std::nullopt;
}

QVariant parseTextOrThrow(const KeyInfo &k, const QString &text, const QString &source)
{
    QString problem;
    std::optional<QVariant> v = fromText(k, text, &problem);
    if (!v)
        fail(keyName(k), source, problem);
    return *v;
}

QString canonicalText(const KeyInfo &k, const QVariant &v)
{
    switch (k.type) {
    case Type::String:
    case Type::NonEmptyString:
    case Type::Address:
    case Type::Choice:
        return v.toString();
    case Type::Int:
        return QString::number(v.toLongLong());
    case Type::Bool:
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case Type::StringList:
    case Type::EndpointList:
        return v.toStringList().join(QLatin1Char(','));
    case Type::ListMap: {
        const auto map = v.value<QHash<QString, QStringList>>();
        QStringList services = map.keys();
        services.sort();
        QStringList entries;
        for (const QString &service : std::as_const(services))
            entries << service + ListMapEquals + map.value(service).join(ListMapNames);
        return entries.join(ListMapEntries);
    }
    case Type::StringMap: {
        const auto map = v.value<QHash<QString, QString>>();
        QStringList services = map.keys();
        services.sort();
        QStringList entries;
        for (const QString &service : std::as_const(services))
            entries << service + QLatin1Char(':') + map.value(service);
        return entries.join(QLatin1Char('&'));
    }
    }
    Q_UNREACHABLE();
    return QString();
}

QString defaultText(const KeyInfo &k)
{
    if (k.defaultText)
        return QString::fromLatin1(k.defaultText);
    Q_ASSERT(k.id == KeyId::BusinessThread); // the only computed default
    return QString::number(std::max(2, QThread::idealThreadCount()));
}

const QVariantList &defaultValues()
{
    static const QVariantList values = [] {
        QVariantList list;
        for (const KeyInfo &k : keyTable)
            list << parseTextOrThrow(k, defaultText(k), QStringLiteral("default"));
        return list;
    }();
    return values;
}

// One --tomato-rpc.<key> setting of the command line.
struct Argument
{
    QString key;
    QString value;
    QString shown; // as written, for error messages
};

QList<Argument> tomatoArguments(const QStringList &arguments)
{
    QList<Argument> result;
    for (int i = 0; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if (a == QLatin1String("--"))
            break; // what follows is the program's positional arguments
        if (!a.startsWith(ArgumentPrefix))
            continue;
        const QString rest = a.mid(ArgumentPrefix.size());
        const int equals = rest.indexOf(QLatin1Char('='));
        if (equals >= 0) {
            result.append({rest.left(equals), rest.mid(equals + 1), a});
            continue;
        }
        if (i + 1 >= arguments.size() || arguments.at(i + 1).startsWith(QLatin1String("--"))) {
            fail(rest, QStringLiteral("command line argument ") + a,
                 QStringLiteral("the value is missing (write %1=<value>)").arg(a));
        }
        ++i;
        result.append({rest, arguments.at(i), a + QLatin1Char(' ') + arguments.at(i)});
    }
    return result;
}

} // namespace

// ---- ConfigError ---------------------------------------------------------------------------

static std::string composeMessage(const QString &key, const QString &source, const QString &problem)
{
    QString s = QStringLiteral("tomato-rpc config: ");
    if (!key.isEmpty() || !source.isEmpty()) {
        if (!key.isEmpty())
            s += QStringLiteral("key '%1' from ").arg(key);
        s += source + QLatin1String(": ");
    }
    s += problem;
    return s.toStdString();
}

ConfigError::ConfigError(const QString &key, const QString &source, const QString &problem)
    : std::runtime_error(composeMessage(key, source, problem)),
      m_key(key), m_source(source), m_problem(problem)
{
}

// ---- loading -------------------------------------------------------------------------------

// Applies the sources to an RpcConfig, one source at a time. Within one source a key may be
// given only once (counting its alias), so that no setting silently loses to another.
class RpcConfigLoader
{
public:
    static void applyFile(RpcConfig &config, const QString &path)
    {
        const QString source = QStringLiteral("file ") + path;
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            fail(QString(), source, QStringLiteral("cannot be read: ") + file.errorString());
        const QByteArray bytes = file.readAll();
        if (file.error() != QFileDevice::NoError)
            fail(QString(), source, QStringLiteral("cannot be read: ") + file.errorString());

        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(bytes, &parseError);
        if (parseError.error != QJsonParseError::NoError) {
            const QByteArray before = bytes.left(parseError.offset);
            const int line = int(before.count('\n')) + 1;
            const int column = int(before.size() - (before.lastIndexOf('\n') + 1)) + 1;
            fail(QString(), source, QStringLiteral("invalid JSON at line %1, column %2: %3")
                                        .arg(line).arg(column).arg(parseError.errorString()));
        }
        if (!document.isObject())
            fail(QString(), source, QStringLiteral("the top level must be a JSON object of keys"));

        QJsonObject keys = document.object();
        const QString section = QStringLiteral("tomato-rpc");
        if (keys.contains(section)) {
            if (keys.size() != 1) {
                QStringList others = keys.keys();
                others.removeAll(section);
                fail(QString(), source,
                     QStringLiteral("\"tomato-rpc\" must be the only member of the top level object "
                                    "(also found: %1)").arg(others.join(QLatin1String(", "))));
            }
            if (!keys.value(section).isObject()) {
                fail(section, source, QStringLiteral("expected an object of keys, found %1")
                                          .arg(describeJson(keys.value(section))));
            }
            keys = keys.value(section).toObject();
        }

        QHash<int, QString> given;
        for (auto it = keys.begin(); it != keys.end(); ++it) {
            const int i = indexOfKey(it.key());
            if (i < 0)
                fail(it.key(), source, unknownKeyProblem(it.key()));
            checkOnce(given, i, it.key(), QStringLiteral("\"%1\"").arg(it.key()), source);
            QString problem;
            const std::optional<QVariant> v = fromJson(keyTable[i], it.value(), &problem);
            if (!v)
                fail(it.key(), source, problem);
            config.assign(i, *v, source);
        }
    }

    static void applyEnvironment(RpcConfig &config, const QProcessEnvironment &env)
    {
        QStringList variables = env.keys();
        variables.sort(); // report the same error every time
        QHash<int, QString> given;
        for (const QString &variable : std::as_const(variables)) {
            if (!variable.startsWith(VariablePrefix) || variable == ConfigVariable)
                continue;
            const QString source = QStringLiteral("environment variable ") + variable;
            const int i = indexOfVariable(variable);
            if (i < 0) {
                const QString key = variable.mid(VariablePrefix.size()).toLower().replace(QLatin1Char('_'), QLatin1Char('-'));
                fail(key, source, unknownKeyProblem(key));
            }
            checkOnce(given, i, keyName(keyTable[i]), source, source);
            config.assign(i, parseTextOrThrow(keyTable[i], env.value(variable), source),
                          QStringLiteral("environment ") + variable);
        }
    }

    static void applyArguments(RpcConfig &config, const QList<Argument> &arguments)
    {
        QHash<int, QString> given;
        for (const Argument &a : arguments) {
            if (a.key == ConfigArgument)
                continue; // the file, already read
            const QString source = QStringLiteral("command line argument ") + a.shown;
            const int i = indexOfKey(a.key);
            if (i < 0)
                fail(a.key, source, unknownKeyProblem(a.key));
            checkOnce(given, i, a.key, a.shown, source);
            config.assign(i, parseTextOrThrow(keyTable[i], a.value, source), QStringLiteral("command line"));
        }
    }

    // The file named by --tomato-rpc.config, empty if none.
    static QString configFileArgument(const QList<Argument> &arguments)
    {
        QString path;
        QString first;
        for (const Argument &a : arguments) {
            if (a.key != ConfigArgument)
                continue;
            const QString source = QStringLiteral("command line argument ") + a.shown;
            if (!first.isEmpty())
                fail(QString(ConfigArgument), source, QStringLiteral("the file is already given by ") + first);
            if (a.value.isEmpty())
                fail(QString(ConfigArgument), source, QStringLiteral("the path is empty"));
            first = a.shown;
            path = a.value;
        }
        return path;
    }

private:
    static void checkOnce(QHash<int, QString> &given, int i, const QString &key, const QString &shown,
                          const QString &source)
    {
        const auto it = given.constFind(i);
        if (it != given.constEnd())
            fail(key, source, QStringLiteral("the key is already given by %1").arg(*it));
        given.insert(i, shown);
    }
};

// ---- RpcConfig -----------------------------------------------------------------------------

class RpcConfigData : public QSharedData
{
public:
    QVariantList values;  // one per key, in key table order, already validated
    QStringList sources;  // same order
};

RpcConfig::RpcConfig() : d(new RpcConfigData)
{
    d->values = defaultValues();
    d->sources = QStringList(KeyCount, QStringLiteral("default"));
}

RpcConfig::RpcConfig(const RpcConfig &other) = default;
RpcConfig &RpcConfig::operator=(const RpcConfig &other) = default;
RpcConfig::~RpcConfig() = default;

RpcConfig RpcConfig::load(const QStringList &arguments, const QProcessEnvironment &env,
                          const QString &filePath)
{
    const QList<Argument> tomatoArgs = tomatoArguments(arguments);
    const QString pathArgument = RpcConfigLoader::configFileArgument(tomatoArgs);

    QString path = filePath;
    if (path.isEmpty())
        path = pathArgument;
    if (path.isEmpty() && env.contains(QString(ConfigVariable))) {
        path = env.value(QString(ConfigVariable));
        if (path.isEmpty())
            fail(QString(ConfigArgument), QStringLiteral("environment variable ") + QString(ConfigVariable),
                 QStringLiteral("the path is empty"));
    }

    RpcConfig config;
    if (!path.isEmpty())
        RpcConfigLoader::applyFile(config, path);
    RpcConfigLoader::applyEnvironment(config, env);
    RpcConfigLoader::applyArguments(config, tomatoArgs);
    return config;
}

RpcConfig RpcConfig::fromArguments(const QStringList &arguments)
{
    return load(arguments, QProcessEnvironment::systemEnvironment());
}

RpcConfig RpcConfig::load(const RpcConfig &defaults, const QStringList &arguments, const QProcessEnvironment &env,
                          const QString &filePath)
{
    RpcConfig config = load(arguments, env, filePath);
    for (int i = 0; i < KeyCount; ++i) {
        if (config.d->sources.at(i) == QLatin1String("default") && defaults.d->sources.at(i) != QLatin1String("default"))
            config.assign(i, defaults.d->values.at(i), QStringLiteral("application"));
    }
    return config;
}

bool RpcConfig::isSetByUser(const QString &key) const
{
    const QString source = sourceOf(key);
    return source != QLatin1String("default") && source != QLatin1String("application");
}

void RpcConfig::addOptionsTo(QCommandLineParser &parser, const RpcConfig &defaults)
{
    parser.addOption(QCommandLineOption(QString(ArgumentPrefix).mid(2) + ConfigArgument,
                                        QStringLiteral("JSON file of tomato-rpc keys (also TOMATO_RPC_CONFIG)."),
                                        QStringLiteral("file")));
    for (const KeyInfo &k : keyTable) {
        QString description = QString::fromUtf8(k.description);
        const int i = index(k.id);
        // A key whose built-in default is computed says so in its description.
        const qsizetype said = description.indexOf(QLatin1String(" Default: "));
        if (said < 0 || defaults.d->sources.at(i) != QLatin1String("default")) {
            if (said >= 0)
                description.truncate(said);
            const QString d = canonicalText(k, defaults.d->values.at(i));
            description += QStringLiteral(" Default: %1.").arg(d.isEmpty() ? QStringLiteral("none") : d);
        }
        if (k.alias)
            description += QStringLiteral(" Also --%1%2.").arg(QString(ArgumentPrefix).mid(2), QLatin1String(k.alias));
        parser.addOption(QCommandLineOption(QString(ArgumentPrefix).mid(2) + keyName(k), description,
                                            QStringLiteral("value")));
        if (k.alias) {
            // Accepted, and named in the key's description rather than beside it: Qt's help
            // would wrap the two names mid-word.
            QCommandLineOption alias(QString(ArgumentPrefix).mid(2) + QLatin1String(k.alias),
                                     QStringLiteral("Alias of %1.").arg(keyName(k)), QStringLiteral("value"));
            alias.setFlags(QCommandLineOption::HiddenFromHelp);
            parser.addOption(alias);
        }
    }
}

namespace {
[[noreturn]] void refuse(const QString &message)
{
    std::fprintf(stderr, "%s: %s\n", qPrintable(QCoreApplication::applicationName()), qPrintable(message));
    std::exit(2);
}
} // namespace

RpcConfig RpcConfig::fromCommandLine(const QCoreApplication &app, QCommandLineParser &parser, const RpcConfig &defaults)
{
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    addOptionsTo(parser, defaults);
    const QStringList arguments = app.arguments();
    if (!parser.parse(arguments)) {
        // Our own loader says more about a tomato-rpc option (did you mean ...?).
        try {
            load(defaults, arguments);
        } catch (const ConfigError &e) {
            refuse(QString::fromUtf8(e.what()));
        }
        refuse(parser.errorText() + QLatin1String(" (see --help)"));
    }
    if (parser.isSet(help) || parser.isSet(QStringLiteral("help-all")) || parser.isSet(version))
        parser.process(app); // prints help (--help-all: with Qt's options) or the version, exits 0
    try {
        return load(defaults, arguments);
    } catch (const ConfigError &e) {
        refuse(QString::fromUtf8(e.what()));
    }
}

void RpcConfig::assign(int i, const QVariant &value, const QString &source)
{
    d->values[i] = value;
    d->sources[i] = source;
}

void RpcConfig::set(const QString &key, const QString &value)
{
    const KeyInfo &k = keyOrThrow(key);
    assign(index(k.id), parseTextOrThrow(k, value, QString(ApiSource)), QString(ApiSource));
}

QString RpcConfig::value(const QString &key) const
{
    const KeyInfo &k = keyOrThrow(key);
    return canonicalText(k, d->values.at(index(k.id)));
}

QString RpcConfig::sourceOf(const QString &key) const
{
    return d->sources.at(index(keyOrThrow(key).id));
}

QStringList RpcConfig::keys()
{
    QStringList names;
    for (const KeyInfo &k : keyTable)
        names << keyName(k);
    return names;
}

QString RpcConfig::description(const QString &key)
{
    return QString::fromUtf8(keyOrThrow(key).description);
}

bool RpcConfig::isImplemented(const QString &key)
{
    return keyOrThrow(key).implemented;
}

QString RpcConfig::defaultValue(const QString &key)
{
    const KeyInfo &k = keyOrThrow(key);
    return canonicalText(k, defaultValues().at(index(k.id)));
}

QString RpcConfig::environmentVariable(const QString &key)
{
    return environmentName(keyOrThrow(key).name);
}

QString RpcConfig::summary() const
{
    QString s;
    for (int i = 0; i < KeyCount; ++i) {
        const QString text = canonicalText(keyTable[i], d->values.at(i));
        s += QStringLiteral("%1 = %2  (%3)\n")
                 .arg(keyName(keyTable[i]), text.isEmpty() ? QStringLiteral("\"\"") : text, d->sources.at(i));
    }
    return s;
}

// ---- typed access --------------------------------------------------------------------------

namespace {

void setChecked(RpcConfig *config, KeyId id, const QVariant &v, const QString &problem, bool ok)
{
    if (!ok)
        fail(keyName(keyTable[index(id)]), QString(ApiSource), problem);
    // set() with the canonical text keeps the API source and every rule in one place.
    config->set(keyName(keyTable[index(id)]), canonicalText(keyTable[index(id)], v));
}

void setInt(RpcConfig *config, KeyId id, qint64 n)
{
    QString problem;
    const bool ok = checkInt(keyTable[index(id)], n, QString::number(n), &problem);
    setChecked(config, id, QVariant(n), problem, ok);
}

void setBool(RpcConfig *config, KeyId id, bool on)
{
    setChecked(config, id, QVariant(on), QString(), true);
}

void setString(RpcConfig *config, KeyId id, const QString &s)
{
    QString problem;
    const bool ok = checkString(keyTable[index(id)], s, &problem);
    setChecked(config, id, QVariant(s), problem, ok);
}

QString stringAt(const QVariantList &values, KeyId id) { return values.at(index(id)).toString(); }
// Range-checked on the way in: every Int key but max-frame-bytes and max-buffered-bytes (qint64)
// fits an int.
int intAt(const QVariantList &values, KeyId id) { return int(values.at(index(id)).toLongLong()); }

} // namespace

QString RpcConfig::microServiceId() const { return stringAt(d->values, KeyId::MicroServiceId); }
void RpcConfig::setMicroServiceId(const QString &id) { setString(this, KeyId::MicroServiceId, id); }
QString RpcConfig::nameServiceUri() const { return stringAt(d->values, KeyId::NameServiceUri); }
void RpcConfig::setNameServiceUri(const QString &uri) { setString(this, KeyId::NameServiceUri, uri); }
quint16 RpcConfig::port() const { return quint16(intAt(d->values, KeyId::Port)); }
void RpcConfig::setPort(quint16 port) { setInt(this, KeyId::Port, port); }
QString RpcConfig::host() const { return stringAt(d->values, KeyId::Host); }
void RpcConfig::setHost(const QString &host) { setString(this, KeyId::Host, host); }
int RpcConfig::businessThreads() const { return intAt(d->values, KeyId::BusinessThread); }
void RpcConfig::setBusinessThreads(int threads) { setInt(this, KeyId::BusinessThread, threads); }
QString RpcConfig::stage() const { return stringAt(d->values, KeyId::Stage); }
void RpcConfig::setStage(const QString &stage) { setString(this, KeyId::Stage, stage); }
QString RpcConfig::group() const { return stringAt(d->values, KeyId::Group); }
void RpcConfig::setGroup(const QString &group) { setString(this, KeyId::Group, group); }
int RpcConfig::serverIdleCheckMs() const { return intAt(d->values, KeyId::ServerIdleCheckMs); }
void RpcConfig::setServerIdleCheckMs(int ms) { setInt(this, KeyId::ServerIdleCheckMs, ms); }

QStringList RpcConfig::subscribedServices() const
{
    return d->values.at(index(KeyId::SubscribedServices)).toStringList();
}

void RpcConfig::setSubscribedServices(const QStringList &services)
{
    QString problem;
    const bool ok = checkList(services, &problem);
    setChecked(this, KeyId::SubscribedServices, QVariant(services), problem, ok);
}

QHash<QString, QString> RpcConfig::subscribedServicesGroup() const
{
    return d->values.at(index(KeyId::SubscribedServicesGroup)).value<QHash<QString, QString>>();
}

void RpcConfig::setSubscribedServicesGroup(const QHash<QString, QString> &groupByService)
{
    QString problem;
    const bool ok = checkMap(groupByService, &problem);
    setChecked(this, KeyId::SubscribedServicesGroup, QVariant::fromValue(groupByService), problem, ok);
}

int RpcConfig::clientKeepAliveMs() const { return intAt(d->values, KeyId::ClientKeepAliveMs); }
void RpcConfig::setClientKeepAliveMs(int ms) { setInt(this, KeyId::ClientKeepAliveMs, ms); }
bool RpcConfig::useGzip() const { return d->values.at(index(KeyId::UseGzip)).toBool(); }
void RpcConfig::setUseGzip(bool on) { setBool(this, KeyId::UseGzip, on); }
int RpcConfig::ioThreads() const { return intAt(d->values, KeyId::IoThreads); }
void RpcConfig::setIoThreads(int threads) { setInt(this, KeyId::IoThreads, threads); }
qint64 RpcConfig::maxFrameBytes() const { return d->values.at(index(KeyId::MaxFrameBytes)).toLongLong(); }
void RpcConfig::setMaxFrameBytes(qint64 bytes) { setInt(this, KeyId::MaxFrameBytes, bytes); }
int RpcConfig::timeoutMs() const { return intAt(d->values, KeyId::TimeoutMs); }
void RpcConfig::setTimeoutMs(int ms) { setInt(this, KeyId::TimeoutMs, ms); }

Serialization RpcConfig::serialization() const
{
    return stringAt(d->values, KeyId::Serialization) == QLatin1String("json") ? Serialization::Json
                                                                       : Serialization::Binary;
}

void RpcConfig::setSerialization(Serialization s)
{
    switch (s) {
    case Serialization::Binary:
        set(QStringLiteral("serialization"), QStringLiteral("binary"));
        return;
    case Serialization::Json:
        set(QStringLiteral("serialization"), QStringLiteral("json"));
        return;
    }
    fail(QStringLiteral("serialization"), QString(ApiSource),
         QStringLiteral("%1 is not a Serialization value").arg(int(s)));
}

QString RpcConfig::advertiseHost() const { return stringAt(d->values, KeyId::AdvertiseHost); }
void RpcConfig::setAdvertiseHost(const QString &host) { setString(this, KeyId::AdvertiseHost, host); }

QString RpcConfig::compression() const
{
    const QString stored = stringAt(d->values, KeyId::Compression);
    if (stored == QLatin1String("none") && useGzip())
        return QStringLiteral("gzip");
    return stored;
}

void RpcConfig::setCompression(const QString &codec) { set(QStringLiteral("compression"), codec); }
int RpcConfig::compressionThresholdBytes() const { return intAt(d->values, KeyId::CompressionThresholdBytes); }
void RpcConfig::setCompressionThresholdBytes(int bytes) { setInt(this, KeyId::CompressionThresholdBytes, bytes); }
bool RpcConfig::emptyProtection() const { return d->values.at(index(KeyId::EmptyProtection)).toBool(); }
void RpcConfig::setEmptyProtection(bool on) { setBool(this, KeyId::EmptyProtection, on); }
int RpcConfig::drainTimeoutMs() const { return intAt(d->values, KeyId::DrainTimeoutMs); }
void RpcConfig::setDrainTimeoutMs(int ms) { setInt(this, KeyId::DrainTimeoutMs, ms); }
int RpcConfig::weight() const { return intAt(d->values, KeyId::Weight); }
void RpcConfig::setWeight(int weight) { setInt(this, KeyId::Weight, weight); }
int RpcConfig::registrySessionTimeoutMs() const { return intAt(d->values, KeyId::RegistrySessionTimeoutMs); }
void RpcConfig::setRegistrySessionTimeoutMs(int ms) { setInt(this, KeyId::RegistrySessionTimeoutMs, ms); }

QString RpcConfig::transport() const { return stringAt(d->values, KeyId::Transport); }
void RpcConfig::setTransport(const QString &scheme) { set(QStringLiteral("transport"), scheme); }
QStringList RpcConfig::listen() const { return d->values.at(index(KeyId::Listen)).toStringList(); }

void RpcConfig::setListen(const QStringList &addresses)
{
    QString problem;
    const bool ok = checkEndpoints(addresses, &problem);
    setChecked(this, KeyId::Listen, QVariant(addresses), problem, ok);
}

QString RpcConfig::tlsCert() const { return stringAt(d->values, KeyId::TlsCert); }
void RpcConfig::setTlsCert(const QString &path) { setString(this, KeyId::TlsCert, path); }
QString RpcConfig::tlsKey() const { return stringAt(d->values, KeyId::TlsKey); }
void RpcConfig::setTlsKey(const QString &path) { setString(this, KeyId::TlsKey, path); }
QString RpcConfig::tlsCa() const { return stringAt(d->values, KeyId::TlsCa); }
void RpcConfig::setTlsCa(const QString &path) { setString(this, KeyId::TlsCa, path); }
bool RpcConfig::tlsVerifyPeer() const { return d->values.at(index(KeyId::TlsVerifyPeer)).toBool(); }
void RpcConfig::setTlsVerifyPeer(bool on) { setBool(this, KeyId::TlsVerifyPeer, on); }
bool RpcConfig::tlsRequireClientCert() const { return d->values.at(index(KeyId::TlsRequireClientCert)).toBool(); }
void RpcConfig::setTlsRequireClientCert(bool on) { setBool(this, KeyId::TlsRequireClientCert, on); }

QHash<QString, QStringList> RpcConfig::tlsAllowedClients() const
{
    return d->values.at(index(KeyId::TlsAllowedClients)).value<QHash<QString, QStringList>>();
}

void RpcConfig::setTlsAllowedClients(const QHash<QString, QStringList> &subjectsByService)
{
    QString problem;
    const bool ok = checkListMap(subjectsByService, &problem);
    setChecked(this, KeyId::TlsAllowedClients, QVariant::fromValue(subjectsByService), problem, ok);
}

int RpcConfig::tlsHandshakeTimeoutMs() const { return intAt(d->values, KeyId::TlsHandshakeTimeoutMs); }
void RpcConfig::setTlsHandshakeTimeoutMs(int ms) { setInt(this, KeyId::TlsHandshakeTimeoutMs, ms); }
QString RpcConfig::unixSocketAccess() const { return stringAt(d->values, KeyId::UnixSocketAccess); }
void RpcConfig::setUnixSocketAccess(const QString &access) { set(QStringLiteral("unix-socket-access"), access); }

bool RpcConfig::enableCircuit() const { return d->values.at(index(KeyId::EnableCircuit)).toBool(); }
void RpcConfig::setEnableCircuit(bool on) { setBool(this, KeyId::EnableCircuit, on); }
int RpcConfig::circuitOpenRate() const { return intAt(d->values, KeyId::CircuitOpenRate); }
void RpcConfig::setCircuitOpenRate(int percent) { setInt(this, KeyId::CircuitOpenRate, percent); }
int RpcConfig::circuitOpenSeconds() const { return intAt(d->values, KeyId::CircuitOpenSeconds); }
void RpcConfig::setCircuitOpenSeconds(int seconds) { setInt(this, KeyId::CircuitOpenSeconds, seconds); }
int RpcConfig::circuitWindow() const { return intAt(d->values, KeyId::CircuitWindow); }
void RpcConfig::setCircuitWindow(int calls) { setInt(this, KeyId::CircuitWindow, calls); }
int RpcConfig::circuitMinCalls() const { return intAt(d->values, KeyId::CircuitMinCalls); }
void RpcConfig::setCircuitMinCalls(int calls) { setInt(this, KeyId::CircuitMinCalls, calls); }
int RpcConfig::circuitHalfOpenCalls() const { return intAt(d->values, KeyId::CircuitHalfOpenCalls); }
void RpcConfig::setCircuitHalfOpenCalls(int calls) { setInt(this, KeyId::CircuitHalfOpenCalls, calls); }
int RpcConfig::connectionsPerInstance() const { return intAt(d->values, KeyId::ConnectionsPerInstance); }
void RpcConfig::setConnectionsPerInstance(int n) { setInt(this, KeyId::ConnectionsPerInstance, n); }
int RpcConfig::connectTimeoutMs() const { return intAt(d->values, KeyId::ConnectTimeoutMs); }
void RpcConfig::setConnectTimeoutMs(int ms) { setInt(this, KeyId::ConnectTimeoutMs, ms); }
bool RpcConfig::statusEnabled() const { return d->values.at(index(KeyId::StatusEnabled)).toBool(); }
void RpcConfig::setStatusEnabled(bool on) { setBool(this, KeyId::StatusEnabled, on); }
int RpcConfig::statusPort() const { return intAt(d->values, KeyId::StatusPort); }
void RpcConfig::setStatusPort(int port) { setInt(this, KeyId::StatusPort, port); }
int RpcConfig::statusRequestTimeoutMs() const { return intAt(d->values, KeyId::StatusRequestTimeoutMs); }
void RpcConfig::setStatusRequestTimeoutMs(int ms) { setInt(this, KeyId::StatusRequestTimeoutMs, ms); }
qint64 RpcConfig::maxEventQueueBytes() const { return d->values.at(index(KeyId::MaxEventQueueBytes)).toLongLong(); }
void RpcConfig::setMaxEventQueueBytes(qint64 bytes) { setInt(this, KeyId::MaxEventQueueBytes, bytes); }
qint64 RpcConfig::maxBufferedBytes() const { return d->values.at(index(KeyId::MaxBufferedBytes)).toLongLong(); }
void RpcConfig::setMaxBufferedBytes(qint64 bytes) { setInt(this, KeyId::MaxBufferedBytes, bytes); }
int RpcConfig::maxBufferedWaitMs() const { return intAt(d->values, KeyId::MaxBufferedWaitMs); }
void RpcConfig::setMaxBufferedWaitMs(int ms) { setInt(this, KeyId::MaxBufferedWaitMs, ms); }
int RpcConfig::frameReadTimeoutMs() const { return intAt(d->values, KeyId::FrameReadTimeoutMs); }
void RpcConfig::setFrameReadTimeoutMs(int ms) { setInt(this, KeyId::FrameReadTimeoutMs, ms); }
int RpcConfig::firstByteTimeoutMs() const { return intAt(d->values, KeyId::FirstByteTimeoutMs); }
void RpcConfig::setFirstByteTimeoutMs(int ms) { setInt(this, KeyId::FirstByteTimeoutMs, ms); }
int RpcConfig::maxConnections() const { return intAt(d->values, KeyId::MaxConnections); }
void RpcConfig::setMaxConnections(int connections) { setInt(this, KeyId::MaxConnections, connections); }
int RpcConfig::maxConnectionsPerHost() const { return intAt(d->values, KeyId::MaxConnectionsPerHost); }
void RpcConfig::setMaxConnectionsPerHost(int connections) { setInt(this, KeyId::MaxConnectionsPerHost, connections); }
int RpcConfig::statusMaxConnections() const { return intAt(d->values, KeyId::StatusMaxConnections); }
void RpcConfig::setStatusMaxConnections(int connections) { setInt(this, KeyId::StatusMaxConnections, connections); }
int RpcConfig::reconnectBackoffMinMs() const { return intAt(d->values, KeyId::ReconnectBackoffMinMs); }
void RpcConfig::setReconnectBackoffMinMs(int ms) { setInt(this, KeyId::ReconnectBackoffMinMs, ms); }
int RpcConfig::reconnectBackoffMaxMs() const { return intAt(d->values, KeyId::ReconnectBackoffMaxMs); }
void RpcConfig::setReconnectBackoffMaxMs(int ms) { setInt(this, KeyId::ReconnectBackoffMaxMs, ms); }
QString RpcConfig::loadBalance() const { return stringAt(d->values, KeyId::LoadBalance); }
void RpcConfig::setLoadBalance(const QString &policy) { set(QStringLiteral("load-balance"), policy); }

QHash<QString, QString> RpcConfig::loadBalanceByService() const
{
    return d->values.at(index(KeyId::LoadBalanceByService)).value<QHash<QString, QString>>();
}

void RpcConfig::setLoadBalanceByService(const QHash<QString, QString> &policyByService)
{
    QString problem;
    const bool ok = checkMap(policyByService, &problem);
    setChecked(this, KeyId::LoadBalanceByService, QVariant::fromValue(policyByService), problem, ok);
}

QString RpcConfig::cluster() const { return stringAt(d->values, KeyId::Cluster); }
void RpcConfig::setCluster(const QString &mode) { set(QStringLiteral("cluster"), mode); }

QHash<QString, QString> RpcConfig::clusterByMethod() const
{
    return d->values.at(index(KeyId::ClusterByMethod)).value<QHash<QString, QString>>();
}

void RpcConfig::setClusterByMethod(const QHash<QString, QString> &modeByMethod)
{
    QString problem;
    const bool ok = checkMap(modeByMethod, &problem);
    setChecked(this, KeyId::ClusterByMethod, QVariant::fromValue(modeByMethod), problem, ok);
}

int RpcConfig::retries() const { return intAt(d->values, KeyId::Retries); }
void RpcConfig::setRetries(int retries) { setInt(this, KeyId::Retries, retries); }

QHash<QString, QStringList> RpcConfig::idempotentMethods() const
{
    return d->values.at(index(KeyId::IdempotentMethods)).value<QHash<QString, QStringList>>();
}

void RpcConfig::setIdempotentMethods(const QHash<QString, QStringList> &methodsByService)
{
    QString problem;
    const bool ok = checkListMap(methodsByService, &problem);
    setChecked(this, KeyId::IdempotentMethods, QVariant::fromValue(methodsByService), problem, ok);
}

int RpcConfig::warmupSeconds() const { return intAt(d->values, KeyId::WarmupSeconds); }
void RpcConfig::setWarmupSeconds(int seconds) { setInt(this, KeyId::WarmupSeconds, seconds); }
int RpcConfig::maxQueuedCalls() const { return intAt(d->values, KeyId::MaxQueuedCalls); }
void RpcConfig::setMaxQueuedCalls(int calls) { setInt(this, KeyId::MaxQueuedCalls, calls); }
int RpcConfig::maxQueuedPerConnection() const { return intAt(d->values, KeyId::MaxQueuedPerConnection); }
void RpcConfig::setMaxQueuedPerConnection(int calls) { setInt(this, KeyId::MaxQueuedPerConnection, calls); }

} // namespace Tomato
