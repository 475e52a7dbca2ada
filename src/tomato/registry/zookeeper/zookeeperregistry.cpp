// SPDX-License-Identifier: Apache-2.0
#include <tomato/registry/zookeeper/zookeeperregistry.h>

#include <tomato/core/rpcconfig.h>
#include <tomato/core/rpcerror.h>
#include <tomato/core/tsan_p.h>

#include <QtCore/QCryptographicHash>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QMutex>
#include <QtCore/QPointer>
#include <QtCore/QPromise>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QTimer>
#include <QtCore/QUrl>

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <tuple>
#include <utility>

namespace Tomato {

Q_LOGGING_CATEGORY(lcZooKeeper, "tomato.registry.zookeeper", QtInfoMsg)

namespace {

// Hands ZooKeeper callbacks (on the client's threads) to the registry's thread. Shared by
// the registry and every context ZooKeeper holds; the registry detaches it before closing
// its handle, after which posts are dropped.
struct Bridge
{
    QMutex mutex;
    QObject *receiver = nullptr;
    std::atomic<int> requestsInFlight{0}; // Requests not completed yet, for close()

    void post(std::function<void()> f)
    {
        QMutexLocker lock(&mutex);
        if (!receiver)
            return;
        tomatoPost(receiver, std::move(f)); // from ZooKeeper's completion thread, told to ThreadSanitizer
    }
};

// One entry of a node's ACL, as ZooKeeper gave it.
struct AclEntry
{
    int perms;
    QString scheme;
    QString id;
};

// One asynchronous request in flight; deleted by its completion (ZooKeeper completes every
// request, with ZCLOSING when the handle closes).
struct Request
{
    std::shared_ptr<Bridge> bridge;
    zhandle_t *zh;
    QByteArray path;
    std::function<void(int rc, QStringList children)> done; // runs on the registry's thread
    std::function<void(int rc, QByteArray data)> gotData;    // for reads of a node's data
    std::function<void(int rc, QList<AclEntry> acl)> gotAcl; // for reads of a node's ACL
    ~Request() { --bridge->requestsInFlight; }              // counted up by its maker
};

void stringCompletion(int rc, const char *, const void *data)
{
    std::unique_ptr<Request> r(static_cast<Request *>(const_cast<void *>(data)));
    if (r->done && rc != ZCLOSING)
        r->bridge->post([rc, done = std::move(r->done)] { done(rc, {}); });
}

void voidCompletion(int rc, const void *data)
{
    stringCompletion(rc, nullptr, data);
}

void statCompletion(int rc, const Stat *, const void *data)
{
    stringCompletion(rc, nullptr, data);
}

void childrenCompletion(int rc, const String_vector *strings, const Stat *, const void *data)
{
    std::unique_ptr<Request> r(static_cast<Request *>(const_cast<void *>(data)));
    if (!r->done || rc == ZCLOSING)
        return;
    QStringList children;
    if (rc == ZOK && strings) {
        for (int i = 0; i < strings->count; ++i)
            children << QString::fromUtf8(strings->data[i]);
    }
    r->bridge->post([rc, children, done = std::move(r->done)] { done(rc, children); });
}

void dataCompletion(int rc, const char *value, int valueLength, const Stat *, const void *data)
{
    std::unique_ptr<Request> r(static_cast<Request *>(const_cast<void *>(data)));
    if (!r->gotData || rc == ZCLOSING)
        return;
    const QByteArray bytes = rc == ZOK && value && valueLength > 0 ? QByteArray(value, valueLength) : QByteArray();
    r->bridge->post([rc, bytes, done = std::move(r->gotData)] { done(rc, bytes); });
}

void aclCompletion(int rc, ACL_vector *acl, Stat *, const void *data)
{
    std::unique_ptr<Request> r(static_cast<Request *>(const_cast<void *>(data)));
    if (!r->gotAcl || rc == ZCLOSING)
        return;
    QList<AclEntry> entries;
    for (int i = 0; rc == ZOK && acl && i < acl->count; ++i) {
        entries.append(AclEntry{acl->data[i].perms, QString::fromUtf8(acl->data[i].id.scheme),
                                QString::fromUtf8(acl->data[i].id.id)});
    }
    r->bridge->post([rc, entries, done = std::move(r->gotAcl)] { done(rc, entries); });
}

// ZooKeeper's reason for a failed request, for people: "not authorised (ZNOAUTH): not authenticated".
QString describeError(int rc)
{
    static const struct
    {
        int rc;
        const char *name;
        const char *meaning;
    } known[] = {{ZNOAUTH, "ZNOAUTH", "not authorised"},
                 {ZAUTHFAILED, "ZAUTHFAILED", "authentication failed"},
                 {ZNONODE, "ZNONODE", "no such node"},
                 {ZNOTEMPTY, "ZNOTEMPTY", "the node has children"},
                 {ZINVALIDACL, "ZINVALIDACL", "invalid ACL"},
                 {ZBADARGUMENTS, "ZBADARGUMENTS", "bad arguments"}};
    for (const auto &k : known) {
        if (k.rc == rc)
            return QStringLiteral("%1 (%2): %3").arg(QLatin1String(k.meaning), QLatin1String(k.name),
                                                     QString::fromUtf8(zerror(rc)));
    }
    return QStringLiteral("%1 (ZooKeeper error %2)").arg(QString::fromUtf8(zerror(rc))).arg(rc);
}

// The instances and the consumers that a providers/ or consumers/ folder lists; names that
// are neither are left out.
QList<InstanceInfo> providersFrom(const QStringList &nodes)
{
    QList<InstanceInfo> out;
    for (const QString &node : nodes) {
        if (const auto instance = InstanceInfo::fromNodeName(node))
            out.append(*instance);
    }
    return out;
}

QList<ConsumerInfo> consumersFrom(const QStringList &nodes)
{
    QList<ConsumerInfo> out;
    for (const QString &node : nodes) {
        if (const auto consumer = ConsumerInfo::fromNodeName(node))
            out.append(*consumer);
    }
    return out;
}

// Valid overrides by override node name, as overrides by "host:port" (two names for one
// address, encoded or not: the same one wins each time).
InstanceOverrides overridesByAddress(const QHash<QString, InstanceOverride> &byNode)
{
    QStringList nodes = byNode.keys();
    nodes.sort();
    InstanceOverrides out;
    for (const QString &node : nodes)
        out.insert(QUrl::fromPercentEncoding(node.toLatin1()), byNode.value(node));
    return out;
}

// Providers by address, consumers by host, pid and client: how entries are handed out.
void sortEntry(RegistryServiceEntry &entry)
{
    std::sort(entry.providers.begin(), entry.providers.end(), [](const InstanceInfo &x, const InstanceInfo &y) {
        return std::make_tuple(x.host(), x.port(), x.toUri()) < std::make_tuple(y.host(), y.port(), y.toUri());
    });
    std::sort(entry.consumers.begin(), entry.consumers.end(), [](const ConsumerInfo &x, const ConsumerInfo &y) {
        return std::make_tuple(x.host, x.pid, x.client, x.toUri()) < std::make_tuple(y.host, y.pid, y.client, y.toUri());
    });
}

bool sameEntry(const RegistryServiceEntry &x, const RegistryServiceEntry &y)
{
    return x.microServiceId == y.microServiceId && x.stage == y.stage && x.providers == y.providers
        && x.consumers == y.consumers && x.overrides == y.overrides && x.writable == y.writable;
}

// Errors after which a write is worth sending again on a working connection.
bool isTransient(int rc)
{
    return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONEXPIRED || rc == ZSESSIONMOVED
        || rc == ZINVALIDSTATE;
}

QString key(const QString &microServiceId, const QString &stage)
{
    return microServiceId + QLatin1Char('\n') + stage;
}

struct Options
{
    QString hosts;    // host:port[,host:port...][/chroot], as zookeeper_init takes it
    QString username; // digest credentials; none when empty
    QString password;
    int sessionTimeoutMs = 10000;
    bool emptyProtection = true;
};

Options parseUri(const QString &uri, const RpcConfig &config)
{
    Options o;
    o.sessionTimeoutMs = config.registrySessionTimeoutMs();
    o.emptyProtection = config.emptyProtection();
    QString rest = uri.trimmed();
    if (rest.startsWith(QLatin1String("zookeeper://"), Qt::CaseInsensitive))
        rest = rest.mid(12);
    const qsizetype slash = rest.indexOf(QLatin1Char('/'));
    const qsizetype at = rest.lastIndexOf(QLatin1Char('@'), slash < 0 ? -1 : slash);
    if (at >= 0) {
        const QString userInfo = rest.left(at);
        const qsizetype colon = userInfo.indexOf(QLatin1Char(':'));
        if (colon <= 0)
            throw RpcError(RpcError::BadArguments,
                           QStringLiteral("name-service-uri: the credentials must be user:password@ (percent-encoded)"));
        o.username = QUrl::fromPercentEncoding(userInfo.left(colon).toUtf8());
        o.password = QUrl::fromPercentEncoding(userInfo.mid(colon + 1).toUtf8());
        rest = rest.mid(at + 1);
    }
    if (rest.isEmpty() || rest.startsWith(QLatin1Char('/')))
        throw RpcError(RpcError::BadArguments, QStringLiteral("name-service-uri: no ZooKeeper host:port"));
    o.hosts = rest;
    return o;
}

// Who may do what to the nodes we create: everything for whoever holds our credentials,
// reading for anyone; or anything for anyone when we have no credentials.
ACL_vector *aclFor(const Options &options)
{
    static ACL protectedAcl[] = {{ZOO_PERM_ALL, {const_cast<char *>("auth"), const_cast<char *>("")}},
                                 {ZOO_PERM_READ, {const_cast<char *>("world"), const_cast<char *>("anyone")}}};
    static ACL_vector protectedNodes = {2, protectedAcl};
    return options.username.isEmpty() ? &ZOO_OPEN_ACL_UNSAFE : &protectedNodes;
}

// Who we are in ACLs when we have credentials, as ZooKeeper's DigestAuthenticationProvider
// stores an id: user:base64(sha1("user:password")). Empty without credentials.
QString digestId(const Options &options)
{
    if (options.username.isEmpty())
        return QString();
    const QByteArray credentials = (options.username + QLatin1Char(':') + options.password).toUtf8();
    return options.username + QLatin1Char(':')
        + QString::fromLatin1(QCryptographicHash::hash(credentials, QCryptographicHash::Sha1).toBase64());
}

void authCompletion(int rc, const void *)
{
    if (rc != ZOK)
        qCWarning(lcZooKeeper).noquote() << "ZooKeeper refused our credentials:" << zerror(rc);
}

} // namespace

class ZooKeeperRegistryPrivate
{
public:
    struct Subscription
    {
        QString microServiceId;
        QString stage;
        QList<InstanceInfo> instances;
        bool known = false; // a read succeeded at least once
        QSet<QString> overrideNodes;                    // listed by the last read of overrides/
        QHash<QString, InstanceOverride> overrideByNode; // the valid ones among them, by node name
        QHash<QString, QByteArray> badOverrides;         // malformed ones, as last logged
        InstanceOverrides overrides;                    // as published, by host:port
    };
    // Context of a watch: lives as long as the registry, so watches that never fire leak
    // nothing. `node`: the override node whose data is watched, if any.
    struct WatchContext
    {
        std::shared_ptr<Bridge> bridge;
        QString key;
        QString node;
        ZooKeeperRegistry *q;
    };
    // One of our ephemeral nodes: an instance or a consumer.
    struct Registration
    {
        QByteArray data;
        QString uri; // how the log names it
        bool created = false; // its node stands in the current session
    };
    // An override to write (data) or remove (none); `serial` tells a newer call apart. The
    // rest names it in overrideWriteFinished().
    struct Write
    {
        std::optional<QByteArray> data;
        quint64 serial = 0;
        QString microServiceId;
        QString stage;
        QString address;
    };
    // One browse() in progress: what its current attempt has read, and how many of its reads
    // are still out. `attempt` tells the reads of the current attempt apart from those of one
    // that a lost connection abandoned.
    struct Browse
    {
        QPromise<QList<RegistryServiceEntry>> promise;
        std::map<std::pair<QString, QString>, RegistryServiceEntry> entries; // by service id and stage
        int pending = 0;
        quint64 attempt = 0;
    };
    using BrowseKey = std::pair<QString, QString>;
    // One stage of the watched tree, by its node's path /tomato/{service}/{stage}.
    struct TreeStage
    {
        quint64 serial = 0;         // tells it apart from an earlier stage at the same path
        RegistryServiceEntry entry; // as read so far
        std::optional<RegistryServiceEntry> shown;       // as last reported
        QSet<QString> folders;                           // which of providers, consumers, overrides exist
        QSet<QString> overrideNodes;                     // listed by the last read of overrides/
        QHash<QString, InstanceOverride> overrideByNode; // the valid ones among them
        bool aclKnown = false;                           // its ACL was read in this session
        int pending = 0;                                 // its reads of this round still out
    };
    // A read of the watched tree in flight: its round, and its stage (serial 0: none).
    struct TreeRead
    {
        quint64 round;
        QString stage;
        quint64 stageSerial;
    };

    ZooKeeperRegistry *q;
    Options options;
    std::shared_ptr<Bridge> bridge = std::make_shared<Bridge>();
    zhandle_t *zh = nullptr;
    bool connected = false;
    bool sessionReady = false; // registrations done in the current session
    bool stopped = true;
    QHash<QString, Registration> registrations; // path -> node
    std::map<QString, Subscription> subscriptions;
    std::map<QString, std::unique_ptr<WatchContext>> watchContexts;
    // By subscription key (the overrides path) and by key + '\n' + node (an override's data).
    std::map<QString, std::unique_ptr<WatchContext>> overrideWatchContexts;
    std::map<QString, Write> writes; // override path -> the latest call, until it is done
    quint64 nextWriteSerial = 0;
    std::map<quint64, std::unique_ptr<Browse>> browses; // by id
    quint64 nextBrowseId = 0;
    // watchTree(). A round is the re-reading of every watched node on a connection; reads of
    // an earlier round are ignored (the current one reads their nodes again).
    bool treeWatched = false;
    bool treeLoaded = false;
    qint64 treeSession = 0;     // the session of the current round
    quint64 treeRound = 0;
    int treePending = 0;        // reads of this round still out
    bool treeRoundLost = false; // one of them failed for a lost connection: the next round redoes it
    std::map<QString, QSet<QString>> treeLists; // "/tomato" and each service's path: its children
    std::map<QString, TreeStage> treeStages;     // by the stage node's path
    quint64 nextTreeStageSerial = 0;
    std::map<QString, std::unique_ptr<WatchContext>> treeWatchContexts; // by path, for as long as we live
    // Disconnected for longer than the session timeout: the ensemble has expired our
    // session, even if it cannot tell us so (an ensemble restarted with wiped data refuses
    // a client that has seen newer transactions, forever). Start a new session ourselves.
    QTimer lostTimer;
    // zookeeper_init fails when no host of the list resolves (a Kubernetes pod whose peers'
    // DNS names are not published yet, a name missing from /etc/hosts): tried again until
    // one does. The C client resolves only then; once it has a handle, it retries by itself.
    QTimer openTimer;
    static constexpr int openRetryMs = 1000;
    bool openFailing = false;

    void startNewSession(const char *why)
    {
        qCWarning(lcZooKeeper).noquote().nospace() << why << "; opening a new ZooKeeper session";
        lostTimer.stop();
        close();
        if (!stopped)
            open();
    }

    static void sessionWatcher(zhandle_t *zh, int type, int state, const char *, void *ctx)
    {
        if (type != ZOO_SESSION_EVENT)
            return;
        auto *bridge = static_cast<Bridge *>(ctx);
        bridge->post([zh, state, bridge] {
            // Runs on the registry's thread; the receiver is the registry.
            auto *registry = static_cast<ZooKeeperRegistry *>(bridge->receiver);
            registry->d->onSession(zh, state);
        });
    }

    static void childWatcher(zhandle_t *zh, int type, int, const char *, void *ctx)
    {
        if (type != ZOO_CHILD_EVENT && type != ZOO_DELETED_EVENT && type != ZOO_CREATED_EVENT)
            return;
        auto *w = static_cast<WatchContext *>(ctx);
        w->bridge->post([w, zh] {
            if (zh == w->q->d->zh)
                w->q->d->read(w->key);
        });
    }

    // The overrides path changed (children, created, deleted): read it again.
    static void overridesWatcher(zhandle_t *zh, int type, int, const char *, void *ctx)
    {
        if (type != ZOO_CHILD_EVENT && type != ZOO_DELETED_EVENT && type != ZOO_CREATED_EVENT)
            return;
        auto *w = static_cast<WatchContext *>(ctx);
        w->bridge->post([w, zh] {
            if (zh == w->q->d->zh)
                w->q->d->readOverrides(w->key);
        });
    }

    // An override node's data changed, or the node went: read it again.
    static void overrideDataWatcher(zhandle_t *zh, int type, int, const char *, void *ctx)
    {
        if (type != ZOO_CHANGED_EVENT && type != ZOO_DELETED_EVENT)
            return;
        auto *w = static_cast<WatchContext *>(ctx);
        w->bridge->post([w, zh] {
            if (zh == w->q->d->zh)
                w->q->d->readOverride(w->key, w->node);
        });
    }

    // A node of the watched tree changed (children, data, created, deleted): read it again.
    static void treeWatcher(zhandle_t *zh, int type, int, const char *, void *ctx)
    {
        if (type != ZOO_CHILD_EVENT && type != ZOO_DELETED_EVENT && type != ZOO_CREATED_EVENT
            && type != ZOO_CHANGED_EVENT)
            return;
        auto *w = static_cast<WatchContext *>(ctx);
        w->bridge->post([w, zh] {
            if (zh == w->q->d->zh)
                w->q->d->readTreePath(w->key);
        });
    }

    void open()
    {
        openTimer.stop();
        sessionReady = false; // until the first connection: nothing is lost yet
        errno = 0;
        zh = zookeeper_init(options.hosts.toUtf8().constData(), &sessionWatcher,
                            options.sessionTimeoutMs, nullptr, bridge.get(), 0);
        if (!zh) {
            if (!openFailing) {
                const int error = errno;
                qCWarning(lcZooKeeper).noquote()
                    << QStringLiteral("cannot create a ZooKeeper handle for %1 (%2: does any of its host names "
                                      "resolve?); trying again every %3 ms")
                           .arg(options.hosts,
                                error ? QString::fromLocal8Bit(strerror(error)) : QStringLiteral("no address"))
                           .arg(openRetryMs);
            }
            openFailing = true;
            openTimer.start(openRetryMs);
            return;
        }
        if (openFailing) {
            openFailing = false;
            qCInfo(lcZooKeeper).noquote() << "created the ZooKeeper handle for" << options.hosts;
        }
        if (!options.username.isEmpty()) {
            // Queued before every other request; the client sends it again on reconnects.
            const QByteArray credentials = (options.username + QLatin1Char(':') + options.password).toUtf8();
            zoo_add_auth(zh, "digest", credentials.constData(), int(credentials.size()), &authCompletion, nullptr);
        }
    }

    void close()
    {
        if (zh) {
            // Requests just sent (an unregistration, above all) are let finish first, for a
            // second at most: the C client loses those still in flight when it closes
            // (neither completed nor freed), and the node would stay until the session expires.
            const QDeadlineTimer deadline(connected ? 1000 : 0);
            while (bridge->requestsInFlight.load() > 0 && !deadline.hasExpired())
                QThread::msleep(1);
            zhandle_t *old = zh;
            zh = nullptr;
            zookeeper_close(old); // completes pending requests with ZCLOSING
        }
        ++treeRound; // tree reads already answered but not yet handled are of no use now
        if (connected) {
            connected = false;
            Q_EMIT q->connectedChanged(false);
        }
    }

    void onSession(zhandle_t *from, int state)
    {
        if (from != zh)
            return; // an old handle
        if (state == ZOO_CONNECTED_STATE) {
            lostTimer.stop();
            credentialRetries = 0;
            if (!connected) {
                connected = true;
                qCInfo(lcZooKeeper).noquote() << "connected to ZooKeeper" << options.hosts;
                Q_EMIT q->connectedChanged(true);
            }
            if (!sessionReady) {
                sessionReady = true;
                for (Registration &r : registrations)
                    r.created = false; // a new session, or the last one's creates failed
                for (auto it = registrations.cbegin(); it != registrations.cend(); ++it)
                    create(it.key());
            }
            // Reads that failed while disconnected set no watch: read everything again.
            for (const auto &[k, sub] : subscriptions) {
                read(k);
                readOverrides(k);
            }
            for (const auto &[path, w] : writes)
                write(path);
            for (const auto &[id, b] : browses)
                startBrowse(id); // reads of a lost connection may have failed: begin afresh
            rereadTree();
        } else if (state == ZOO_AUTH_FAILED_STATE) {
            qCCritical(lcZooKeeper).noquote() << "ZooKeeper refused the credentials of" << options.username
                                    << "; this session can read but not register";
        } else if (state == ZOO_EXPIRED_SESSION_STATE) {
            startNewSession("the ZooKeeper session expired");
        } else if (connected) {
            connected = false;
            qCWarning(lcZooKeeper).noquote() << "disconnected from ZooKeeper; keeping the known instances";
            Q_EMIT q->connectedChanged(false);
            if (sessionReady)
                lostTimer.start(options.sessionTimeoutMs);
        }
    }

    Request *request(const QByteArray &path, std::function<void(int, QStringList)> done = {})
    {
        ++bridge->requestsInFlight;
        return new Request{bridge, zh, path, std::move(done), {}, {}};
    }

    Request *dataRequest(const QByteArray &path, std::function<void(int, QByteArray)> gotData)
    {
        ++bridge->requestsInFlight;
        return new Request{bridge, zh, path, {}, std::move(gotData), {}};
    }

    Request *aclRequest(const QByteArray &path, std::function<void(int, QList<AclEntry>)> gotAcl)
    {
        ++bridge->requestsInFlight;
        return new Request{bridge, zh, path, {}, {}, std::move(gotAcl)};
    }

    // A request the client refuses outright (a handle in an unrecoverable state) never
    // completes: free it, and let the next session redo the work.
    static void sent(int rc, Request *r)
    {
        if (rc != ZOK) {
            qCDebug(lcZooKeeper).noquote() << "ZooKeeper refused a request on" << r->path << ":" << zerror(rc);
            delete r;
        }
    }

    // Creates the persistent parents of `path`, in order (a client's requests are handled
    // in order, so the next request sees them). `refused`, if given, hears of each parent
    // that could not be made (other than by existing already), before the next request's answer.
    void createParents(const QByteArray &path, const std::function<void(int rc)> &refused = {})
    {
        for (qsizetype i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) {
            const QByteArray parent = path.left(i);
            std::function<void(int, QStringList)> done;
            if (refused) {
                done = [refused](int rc, const QStringList &) {
                    if (rc != ZOK && rc != ZNODEEXISTS)
                        refused(rc);
                };
            }
            zoo_acreate(zh, parent.constData(), nullptr, -1, aclFor(options), ZOO_PERSISTENT,
                        &stringCompletion, request(parent, std::move(done)));
        }
    }

    // A node created with the "auth" ACL right after (re)connecting can be refused
    // ZINVALIDACL when ZooKeeper has not applied the session's credentials yet (the C client
    // may send a request queued on the connected event before the credentials it re-sends).
    // Tried again shortly, a few times per session: a real refusal still surfaces.
    int credentialRetries = 0;
    bool retryForCredentials(int rc)
    {
        if (rc != ZINVALIDACL || options.username.isEmpty() || credentialRetries >= 30)
            return false;
        ++credentialRetries;
        return true;
    }

    // Creates the ephemeral node of a registration (an instance or a consumer).
    void create(const QString &path)
    {
        const auto it = registrations.constFind(path);
        if (!zh || !connected || it == registrations.cend())
            return; // done when the session is ready
        const QByteArray p = path.toUtf8();
        const QByteArray data = it->data;
        createParents(p);
        Request *r = request(p, [this, path](int rc, const QStringList &) { onCreated(path, rc); });
        sent(zoo_acreate(zh, p.constData(), data.constData(), int(data.size()), aclFor(options), ZOO_EPHEMERAL,
                         &stringCompletion, r),
             r);
    }

    void onCreated(const QString &path, int rc)
    {
        const auto it = registrations.constFind(path);
        if (it == registrations.cend())
            return; // unregistered meanwhile
        if (rc == ZOK) {
            qCInfo(lcZooKeeper).noquote() << "registered" << it->uri;
            registrations[path].created = true;
            // registered() means all of them: a server's readiness must not follow a consumer's.
            if (std::all_of(registrations.cbegin(), registrations.cend(), [](const Registration &r) { return r.created; }))
                Q_EMIT q->registered();
        } else if (rc == ZNODEEXISTS) {
            // A node of ours from an expired session still stands: replace it.
            const QByteArray p = path.toUtf8();
            Request *r = request(p, [this, path](int, const QStringList &) { create(path); });
            sent(zoo_adelete(zh, p.constData(), -1, &voidCompletion, r), r);
        } else if (retryForCredentials(rc)) {
            QTimer::singleShot(100, q, [this, path] { create(path); });
        } else {
            qCWarning(lcZooKeeper).noquote() << "registering" << path << "failed:" << zerror(rc)
                                   << "(retried on the next connection)";
            sessionReady = false;
        }
    }

    void read(const QString &k)
    {
        auto it = subscriptions.find(k);
        if (it == subscriptions.end() || !zh || !connected)
            return;
        const QByteArray path =
            ZooKeeperRegistry::providersPath(it->second.microServiceId, it->second.stage).toUtf8();
        createParents(path + "/x");
        auto &watch = watchContexts[k];
        if (!watch)
            watch.reset(new WatchContext{bridge, k, {}, q});
        zoo_awget_children2(zh, path.constData(), &childWatcher, watch.get(), &childrenCompletion,
                            request(path, [this, k](int rc, const QStringList &children) {
                                onChildren(k, rc, children);
                            }));
    }

    void onChildren(const QString &k, int rc, const QStringList &children)
    {
        auto it = subscriptions.find(k);
        if (it == subscriptions.end())
            return;
        Subscription &sub = it->second;
        if (rc == ZNONODE && zh && connected) {
            // No provider has made the path yet, and we could not (the namespace belongs to
            // credentials we do not hold): a failed read sets no watch, so watch for the
            // path to appear, and read again when it does.
            const QByteArray path = ZooKeeperRegistry::providersPath(sub.microServiceId, sub.stage).toUtf8();
            qCDebug(lcZooKeeper).noquote() << "no" << path << "yet; watching for it";
            zoo_awexists(zh, path.constData(), &childWatcher, watchContexts[k].get(), &statCompletion,
                         request(path, [this, k](int existsRc, const QStringList &) {
                             if (existsRc == ZOK)
                                 read(k); // created between the two requests
                         }));
            return;
        }
        if (rc != ZOK) {
            qCWarning(lcZooKeeper).noquote() << "reading" << sub.microServiceId << sub.stage << "failed:"
                                   << zerror(rc) << "; keeping" << sub.instances.size() << "instances";
            return;
        }
        QList<InstanceInfo> instances;
        for (const QString &child : children) {
            if (auto info = InstanceInfo::fromNodeName(child))
                instances.append(*info);
            else
                qCWarning(lcZooKeeper).noquote() << "ignoring a node that is not an instance:" << child;
        }
        if (instances.isEmpty() && !sub.instances.isEmpty() && options.emptyProtection) {
            qCWarning(lcZooKeeper).noquote() << "ZooKeeper lists no instance of" << sub.microServiceId
                                   << "in" << sub.stage << "; empty protection keeps the"
                                   << sub.instances.size() << "known ones";
            return;
        }
        const bool changed = !sub.known || instances != sub.instances;
        sub.known = true;
        sub.instances = instances;
        if (changed)
            Q_EMIT q->instancesChanged(sub.microServiceId, sub.stage, instances);
    }

    void addRegistration(const QString &path, const QByteArray &data, const QString &uri)
    {
        registrations.insert(path, Registration{data, uri});
        if (sessionReady)
            create(path);
    }

    void removeRegistration(const QString &path)
    {
        if (!registrations.remove(path) || !zh || !connected)
            return;
        const QByteArray p = path.toUtf8();
        Request *r = request(p);
        sent(zoo_adelete(zh, p.constData(), -1, &voidCompletion, r), r);
    }

    WatchContext *overrideWatch(const QString &k, const QString &node)
    {
        auto &watch = overrideWatchContexts[node.isEmpty() ? k : k + QLatin1Char('\n') + node];
        if (!watch)
            watch.reset(new WatchContext{bridge, k, node, q});
        return watch.get();
    }

    // Lists the overrides of a subscription, watching the list; its nodes' data follows.
    void readOverrides(const QString &k)
    {
        const auto it = subscriptions.find(k);
        if (it == subscriptions.end() || !zh || !connected)
            return;
        const QByteArray path = ZooKeeperRegistry::overridesPath(it->second.microServiceId, it->second.stage).toUtf8();
        Request *r = request(path, [this, k](int rc, const QStringList &nodes) { onOverrideNodes(k, rc, nodes); });
        sent(zoo_awget_children2(zh, path.constData(), &overridesWatcher, overrideWatch(k, {}), &childrenCompletion, r),
             r);
    }

    void onOverrideNodes(const QString &k, int rc, const QStringList &nodes)
    {
        const auto it = subscriptions.find(k);
        if (it == subscriptions.end())
            return;
        Subscription &sub = it->second;
        const QByteArray path = ZooKeeperRegistry::overridesPath(sub.microServiceId, sub.stage).toUtf8();
        if (rc == ZNONODE && zh && connected) {
            // The usual case: no operator has written an override. We do not make the path
            // (writing is for operators); watch for it to appear instead.
            sub.overrideNodes.clear();
            sub.overrideByNode.clear();
            sub.badOverrides.clear();
            publishOverrides(sub);
            Request *r = request(path, [this, k](int existsRc, const QStringList &) {
                if (existsRc == ZOK)
                    readOverrides(k); // created between the two requests
            });
            sent(zoo_awexists(zh, path.constData(), &overridesWatcher, overrideWatch(k, {}), &statCompletion, r), r);
            return;
        }
        if (rc != ZOK) {
            qCWarning(lcZooKeeper).noquote() << "reading" << path << "failed:" << zerror(rc) << "; keeping"
                                             << sub.overrides.size() << "overrides";
            return;
        }
        sub.overrideNodes = QSet<QString>(nodes.cbegin(), nodes.cend());
        for (auto node = sub.overrideByNode.begin(); node != sub.overrideByNode.end();) {
            if (sub.overrideNodes.contains(node.key()))
                ++node;
            else
                node = sub.overrideByNode.erase(node);
        }
        for (auto node = sub.badOverrides.begin(); node != sub.badOverrides.end();) {
            if (sub.overrideNodes.contains(node.key()))
                ++node;
            else
                node = sub.badOverrides.erase(node);
        }
        publishOverrides(sub);
        // Every node again: a watch on a node's data is re-armed only by reading it.
        for (const QString &node : nodes)
            readOverride(k, node);
    }

    void readOverride(const QString &k, const QString &node)
    {
        const auto it = subscriptions.find(k);
        if (it == subscriptions.end() || !zh || !connected)
            return;
        const QByteArray path =
            (ZooKeeperRegistry::overridesPath(it->second.microServiceId, it->second.stage) + QLatin1Char('/') + node)
                .toUtf8();
        Request *r = dataRequest(path, [this, k, node, path](int rc, const QByteArray &data) {
            onOverrideData(k, node, path, rc, data);
        });
        sent(zoo_awget(zh, path.constData(), &overrideDataWatcher, overrideWatch(k, node), &dataCompletion, r), r);
    }

    void onOverrideData(const QString &k, const QString &node, const QByteArray &path, int rc, const QByteArray &data)
    {
        const auto it = subscriptions.find(k);
        if (it == subscriptions.end())
            return;
        Subscription &sub = it->second;
        if (rc == ZNONODE) {
            sub.overrideByNode.remove(node);
            sub.badOverrides.remove(node);
        } else if (rc != ZOK) {
            qCWarning(lcZooKeeper).noquote() << "reading" << path << "failed:" << zerror(rc) << "; keeping what we had";
            return;
        } else if (!sub.overrideNodes.contains(node)) {
            return; // listed no more: the list's read has dropped it
        } else {
            QString error;
            if (const auto value = InstanceOverride::fromJson(data, &error)) {
                sub.overrideByNode.insert(node, *value);
                sub.badOverrides.remove(node);
            } else {
                // Counts as absent: the instance keeps its registered values. Said once per
                // content, not on every re-read of the list.
                const auto said = sub.badOverrides.constFind(node);
                if (said == sub.badOverrides.cend() || *said != data)
                    qCWarning(lcZooKeeper).noquote()
                        << "ignoring the override" << QString::fromUtf8(path) + QLatin1Char(':') << error;
                sub.badOverrides.insert(node, data);
                sub.overrideByNode.remove(node);
            }
        }
        publishOverrides(sub);
    }

    // Emits overridesChanged() when the valid overrides, by host:port, differ from the last.
    void publishOverrides(Subscription &sub)
    {
        const InstanceOverrides now = overridesByAddress(sub.overrideByNode);
        if (now == sub.overrides)
            return;
        sub.overrides = now;
        Q_EMIT q->overridesChanged(sub.microServiceId, sub.stage, now);
    }

    void queueWrite(const QString &microServiceId, const QString &stage, const QString &address,
                    std::optional<QByteArray> data)
    {
        const QString path = ZooKeeperRegistry::overridePath(microServiceId, stage, address);
        writes[path] = Write{std::move(data), ++nextWriteSerial, microServiceId, stage, address};
        write(path);
    }

    // Sends the latest call for an override node: create it (or set its data), or delete it.
    void write(const QString &path)
    {
        const auto it = writes.find(path);
        if (it == writes.end() || !zh || !connected)
            return; // sent when the session is connected
        const quint64 serial = it->second.serial;
        const QByteArray p = path.toUtf8();
        if (!it->second.data) {
            Request *r = request(p, [this, path, serial](int rc, const QStringList &) {
                onWritten(path, serial, rc == ZNONODE ? ZOK : rc);
            });
            sent(zoo_adelete(zh, p.constData(), -1, &voidCompletion, r), r);
            return;
        }
        const QByteArray data = *it->second.data;
        // A parent we may not make leaves the node's create with ZNONODE: tell the real reason.
        auto parentRc = std::make_shared<int>(ZOK);
        createParents(p, [parentRc](int rc) { *parentRc = rc; });
        Request *r = request(p, [this, path, serial, p, data, parentRc](int rc, const QStringList &) {
            if (rc == ZNONODE && *parentRc != ZOK)
                rc = *parentRc;
            if (rc != ZNODEEXISTS || !zh || !connected) {
                onWritten(path, serial, rc);
                return;
            }
            Request *set = request(p, [this, path, serial](int setRc, const QStringList &) {
                onWritten(path, serial, setRc);
            });
            sent(zoo_aset(zh, p.constData(), data.constData(), int(data.size()), -1, &statCompletion, set), set);
        });
        sent(zoo_acreate(zh, p.constData(), data.constData(), int(data.size()), aclFor(options), ZOO_PERSISTENT,
                         &stringCompletion, r),
             r);
    }

    void onWritten(const QString &path, quint64 serial, int rc)
    {
        const auto it = writes.find(path);
        if (it == writes.end() || it->second.serial != serial)
            return; // a newer call for the node follows
        if (isTransient(rc)) {
            write(path); // now if connected, else on the next connection
            return;
        }
        if (retryForCredentials(rc)) {
            QTimer::singleShot(100, q, [this, path] { write(path); });
            return;
        }
        if (rc == ZOK)
            qCInfo(lcZooKeeper).noquote() << (it->second.data ? "wrote the override" : "removed the override") << path;
        else
            qCWarning(lcZooKeeper).noquote() << "writing the override" << path << "failed:" << zerror(rc);
        const Write done = std::move(it->second);
        writes.erase(it);
        Q_EMIT q->overrideWriteFinished(done.microServiceId, done.stage, done.address,
                                        rc == ZOK ? QString() : describeError(rc));
    }

    // ---- browse(): one read of the whole tree --------------------------------------------------

    // Begins a browse from /tomato, forgetting what an earlier attempt read; when not
    // connected, only forgets: the session's next connection begins it.
    void startBrowse(quint64 id)
    {
        Browse &b = *browses.at(id);
        b.entries.clear();
        b.pending = 0;
        ++b.attempt;
        if (!zh || !connected)
            return;
        browseChildren(id, "/tomato", [this, id](Browse &, const QStringList &services) {
            for (const QString &service : services)
                browseService(id, service);
        });
    }

    // Node names are used as they are in paths, and percent-decoded in what browse() returns.
    static QString decoded(const QString &segment) { return QUrl::fromPercentEncoding(segment.toUtf8()); }

    void browseService(quint64 id, const QString &service)
    {
        browseChildren(id, "/tomato/" + service.toUtf8(), [this, id, service](Browse &, const QStringList &stages) {
            for (const QString &stage : stages)
                browseStage(id, service, stage);
        });
    }

    void browseStage(quint64 id, const QString &service, const QString &stage)
    {
        const BrowseKey key{decoded(service), decoded(stage)};
        RegistryServiceEntry &entry = browses.at(id)->entries[key];
        entry.microServiceId = key.first;
        entry.stage = key.second;
        const QByteArray base = ("/tomato/" + service + QLatin1Char('/') + stage).toUtf8();
        browseChildren(id, base + "/providers", [key](Browse &b, const QStringList &nodes) {
            b.entries[key].providers = providersFrom(nodes);
        });
        browseChildren(id, base + "/consumers", [key](Browse &b, const QStringList &nodes) {
            b.entries[key].consumers = consumersFrom(nodes);
        });
        browseChildren(id, base + "/overrides", [this, id, key, base](Browse &, const QStringList &nodes) {
            for (const QString &node : nodes) {
                browseData(id, base + "/overrides/" + node.toUtf8(), [key, node](Browse &b, const QByteArray &data) {
                    if (const auto value = InstanceOverride::fromJson(data, nullptr))
                        b.entries[key].overrides.insert(decoded(node), *value);
                });
            }
        });
    }

    // Reads of one browse: `then` runs with the children or the data, none when the node has
    // gone meanwhile.
    void browseChildren(quint64 id, const QByteArray &path, std::function<void(Browse &, const QStringList &)> then)
    {
        Browse &b = *browses.at(id);
        ++b.pending;
        Request *r = request(path, [this, id, attempt = b.attempt, path, then](int rc, const QStringList &children) {
            onBrowsed(id, attempt, path, rc, [&](Browse &browse) { then(browse, children); });
        });
        sent(zoo_aget_children2(zh, path.constData(), 0, &childrenCompletion, r), r);
    }

    void browseData(quint64 id, const QByteArray &path, std::function<void(Browse &, const QByteArray &)> then)
    {
        Browse &b = *browses.at(id);
        ++b.pending;
        Request *r = dataRequest(path, [this, id, attempt = b.attempt, path, then](int rc, const QByteArray &data) {
            onBrowsed(id, attempt, path, rc, [&](Browse &browse) { then(browse, data); });
        });
        sent(zoo_aget(zh, path.constData(), 0, &dataCompletion, r), r);
    }

    // One read of a browse has completed: hands its result on, and finishes the browse when
    // it was the last one out. A lost connection begins the browse afresh.
    void onBrowsed(quint64 id, quint64 attempt, const QByteArray &path, int rc, const std::function<void(Browse &)> &use)
    {
        const auto it = browses.find(id);
        if (it == browses.end() || it->second->attempt != attempt)
            return; // failed, or begun afresh
        Browse &b = *it->second;
        --b.pending;
        if (isTransient(rc)) {
            startBrowse(id);
            return;
        }
        if (rc != ZOK && rc != ZNONODE) {
            failBrowse(id, RpcError(RpcError::Internal, QStringLiteral("reading %1 from ZooKeeper failed: %2")
                                                            .arg(QString::fromUtf8(path), QString::fromUtf8(zerror(rc)))));
            return;
        }
        if (rc == ZOK)
            use(b);
        if (b.pending == 0)
            finishBrowse(id);
    }

    void finishBrowse(quint64 id)
    {
        const std::unique_ptr<Browse> b = std::move(browses.at(id));
        browses.erase(id);
        QList<RegistryServiceEntry> out;
        for (auto &[key, entry] : b->entries) {
            sortEntry(entry);
            out.append(std::move(entry));
        }
        b->promise.addResult(std::move(out));
        b->promise.finish();
    }

    void failBrowse(quint64 id, const RpcError &error)
    {
        const std::unique_ptr<Browse> b = std::move(browses.at(id));
        browses.erase(id);
        b->promise.setException(error);
        b->promise.finish();
    }

    void failBrowses(const QString &why)
    {
        while (!browses.empty())
            failBrowse(browses.begin()->first, RpcError(RpcError::Cancelled, why));
    }

    // ---- watchTree(): the whole tree, kept up to date by watches -------------------------------
    //
    // Paths: /tomato (depth 1), a service (2), a stage (3), one of its folders (4), an override
    // node (5); segments percent-encoded as in ZooKeeper, never holding '/'.

    static int depth(const QString &path) { return int(path.count(QLatin1Char('/'))); }
    static QString stageOf(const QString &path) { return path.section(QLatin1Char('/'), 0, 3); }
    static QString nameOf(const QString &path) { return path.section(QLatin1Char('/'), -1); }
    static QString parentOf(const QString &path) { return path.section(QLatin1Char('/'), 0, -2); }

    WatchContext *treeWatch(const QString &path)
    {
        auto &watch = treeWatchContexts[path];
        if (!watch)
            watch.reset(new WatchContext{bridge, path, {}, q});
        return watch.get();
    }

    // Whether `path` is a node of the tree as we know it (a read of anything else, or of a
    // node dropped meanwhile, is of no use).
    bool inTree(const QString &path) const
    {
        const int level = depth(path);
        if (level <= 2)
            return level == 1 || treeLists.count(path);
        const auto it = treeStages.find(stageOf(path));
        if (it == treeStages.end())
            return false;
        const QString name = nameOf(path);
        if (level == 4)
            return it->second.folders.contains(name);
        return level == 3
            || (path.section(QLatin1Char('/'), 4, 4) == QLatin1String("overrides") && it->second.overrideNodes.contains(name));
    }

    // A connection: every watched node is read again (reads that failed while disconnected
    // set no watch; a new session has none, and may see other ACLs). Only differences are reported.
    void rereadTree()
    {
        if (!treeWatched || !zh || !connected)
            return;
        ++treeRound;
        treePending = 0;
        treeRoundLost = false;
        const qint64 session = zoo_client_id(zh)->client_id;
        const bool newSession = session != treeSession;
        treeSession = session;
        treeLoaded = treeLoaded && !newSession;
        QStringList paths{QStringLiteral("/tomato")}, acls;
        for (const auto &[path, children] : treeLists) {
            if (depth(path) == 2)
                paths << path;
        }
        for (auto &[path, stage] : treeStages) {
            stage.pending = 0;
            stage.aclKnown = stage.aclKnown && !newSession;
            if (!stage.aclKnown)
                acls << path;
            paths << path;
            for (const QString &folder : std::as_const(stage.folders))
                paths << path + QLatin1Char('/') + folder;
            for (const QString &node : std::as_const(stage.overrideNodes))
                paths << path + QLatin1String("/overrides/") + node;
        }
        for (const QString &path : std::as_const(paths))
            readTreePath(path);
        for (const QString &path : std::as_const(acls))
            readTreeAcl(path);
    }

    // Reads a node of the watched tree (again), setting a watch: lists its children, or for
    // an override node reads its data. Nothing while disconnected: the next round reads it.
    void readTreePath(const QString &path)
    {
        if (!treeWatched || !zh || !connected || !inTree(path))
            return;
        const QByteArray p = path.toUtf8();
        const TreeRead t = beginTreeRead(path);
        if (depth(path) == 5) {
            Request *r = dataRequest(p, [this, t, path](int rc, const QByteArray &data) {
                if (endTreeRead(t, rc) && inTree(path) && treeReadUsable(path, rc))
                    onTreeOverride(path, data);
                afterTreeRead(t);
            });
            sendTreeRead(zoo_awget(zh, p.constData(), &treeWatcher, treeWatch(path), &dataCompletion, r), r, t);
            return;
        }
        Request *r = request(p, [this, t, path](int rc, const QStringList &children) {
            if (endTreeRead(t, rc) && inTree(path) && treeReadUsable(path, rc))
                onTreeChildren(path, children);
            afterTreeRead(t);
        });
        sendTreeRead(zoo_awget_children2(zh, p.constData(), &treeWatcher, treeWatch(path), &childrenCompletion, r),
                     r, t);
    }

    // No /tomato yet: watch for it to appear (a failed read sets no watch).
    void watchTreeRoot()
    {
        if (!zh || !connected)
            return;
        const QString root = QStringLiteral("/tomato");
        const TreeRead t = beginTreeRead(root);
        Request *r = request(root.toUtf8(), [this, t, root](int rc, const QStringList &) {
            if (endTreeRead(t, rc) && rc == ZOK)
                readTreePath(root); // created between the two requests
            afterTreeRead(t);
        });
        sendTreeRead(zoo_awexists(zh, "/tomato", &treeWatcher, treeWatch(root), &statCompletion, r), r, t);
    }

    // Whether we may write a stage's overrides, from its node's ACL: read once a session (an
    // ACL read sets no watch). Unreadable, or no node: assume so, a write will tell.
    void readTreeAcl(const QString &stagePath)
    {
        if (!zh || !connected)
            return;
        const QByteArray p = stagePath.toUtf8();
        const TreeRead t = beginTreeRead(stagePath);
        Request *r = aclRequest(p, [this, t, stagePath](int rc, const QList<AclEntry> &acl) {
            if (endTreeRead(t, rc) && !isTransient(rc)) {
                TreeStage &stage = treeStages.at(stagePath);
                stage.aclKnown = true;
                stage.entry.writable = rc != ZOK || mayWrite(acl);
            }
            afterTreeRead(t);
        });
        sendTreeRead(zoo_aget_acl(zh, p.constData(), &aclCompletion, r), r, t);
    }

    // WRITE or CREATE for anyone, or for our own digest credentials.
    bool mayWrite(const QList<AclEntry> &acl) const
    {
        const QString us = digestId(options);
        return std::any_of(acl.cbegin(), acl.cend(), [&us](const AclEntry &e) {
            const bool anyone = e.scheme == QLatin1String("world") && e.id == QLatin1String("anyone");
            const bool ourselves = !us.isEmpty() && e.scheme == QLatin1String("digest") && e.id == us;
            return (e.perms & (ZOO_PERM_WRITE | ZOO_PERM_CREATE)) && (anyone || ourselves);
        });
    }

    // Counts a read of the current round, for its stage too.
    TreeRead beginTreeRead(const QString &path)
    {
        ++treePending;
        TreeRead t{treeRound, depth(path) >= 3 ? stageOf(path) : QString(), 0};
        if (const auto it = treeStages.find(t.stage); it != treeStages.end()) {
            ++it->second.pending;
            t.stageSerial = it->second.serial;
        }
        return t;
    }

    // A request the client refused outright never completes: count it as lost.
    void sendTreeRead(int rc, Request *r, const TreeRead &t)
    {
        sent(rc, r);
        if (rc != ZOK) {
            endTreeRead(t, ZINVALIDSTATE);
            afterTreeRead(t);
        }
    }

    // A read is back: counts it, and tells whether its result is still of use (not of an
    // earlier round, nor of a stage that has gone since).
    bool endTreeRead(const TreeRead &t, int rc)
    {
        if (t.round != treeRound)
            return false;
        --treePending;
        treeRoundLost = treeRoundLost || isTransient(rc);
        if (t.stageSerial == 0)
            return true;
        const auto it = treeStages.find(t.stage);
        if (it == treeStages.end() || it->second.serial != t.stageSerial)
            return false;
        --it->second.pending;
        return true;
    }

    // After a read's result is in: its stage is reported once all its reads are back, and
    // the tree is loaded once every read of the round is, none lost.
    void afterTreeRead(const TreeRead &t)
    {
        if (t.round != treeRound)
            return;
        if (t.stageSerial != 0)
            publishTreeStage(t.stage);
        if (treePending == 0 && connected && !treeRoundLost && !treeLoaded) {
            treeLoaded = true;
            Q_EMIT q->treeLoaded();
        }
    }

    // Sorts out a read's outcome: true when it has a result to use. A node gone is dropped
    // from the tree; a refused read is reported and changes nothing; a lost one waits for
    // the next round.
    bool treeReadUsable(const QString &path, int rc)
    {
        if (rc == ZOK)
            return true;
        if (rc == ZNONODE) {
            onTreeNodeGone(path);
        } else if (!isTransient(rc)) {
            const QString error = describeError(rc);
            qCWarning(lcZooKeeper).noquote() << "reading" << path << "failed:" << error << "; keeping what we had";
            Q_EMIT q->treeReadFailed(path, error);
        }
        return false;
    }

    // A read found no node: it is forgotten, so that its parent's next listing that shows it
    // again (re-created meanwhile) reads it, and sets its watch, afresh.
    void onTreeNodeGone(const QString &path)
    {
        const int level = depth(path);
        if (level == 1) {
            updateTreeList(path, {});
            watchTreeRoot();
        } else if (level <= 3) {
            removeTreeNode(path);
        } else if (level == 4) {
            dropFolder(path);
        } else {
            onTreeOverride(path, QByteArray()); // no data: no override
            treeStages.at(stageOf(path)).overrideNodes.remove(nameOf(path));
        }
    }

    void onTreeChildren(const QString &path, const QStringList &children)
    {
        const int level = depth(path);
        if (level <= 2)
            updateTreeList(path, children);
        else if (level == 3)
            updateFolders(path, children);
        else
            updateFolder(path, children);
    }

    // The children of /tomato or of a service, as just listed: new ones are read, gone ones dropped.
    void updateTreeList(const QString &path, const QStringList &children)
    {
        const QSet<QString> now(children.cbegin(), children.cend());
        const QSet<QString> before = std::exchange(treeLists[path], now);
        for (const QString &name : before - now)
            removeTreeNode(path + QLatin1Char('/') + name);
        for (const QString &name : now - before)
            addTreeNode(path + QLatin1Char('/') + name);
    }

    void addTreeNode(const QString &path)
    {
        if (depth(path) == 2) {
            treeLists[path];
        } else {
            TreeStage &stage = treeStages[path];
            stage.serial = ++nextTreeStageSerial;
            stage.entry.microServiceId = decoded(path.section(QLatin1Char('/'), 2, 2));
            stage.entry.stage = decoded(nameOf(path));
            readTreeAcl(path);
        }
        readTreePath(path);
    }

    // A service or a stage is gone: forgets it and everything below, reporting each stage
    // that was reported.
    void removeTreeNode(const QString &path)
    {
        if (const auto parent = treeLists.find(parentOf(path)); parent != treeLists.end())
            parent->second.remove(nameOf(path));
        if (depth(path) == 2) {
            const auto it = treeLists.find(path);
            if (it == treeLists.end())
                return;
            const QSet<QString> stages = std::move(it->second);
            treeLists.erase(it);
            for (const QString &stage : stages)
                removeTreeNode(path + QLatin1Char('/') + stage);
            return;
        }
        const auto it = treeStages.find(path);
        if (it == treeStages.end())
            return;
        const std::optional<RegistryServiceEntry> shown = std::move(it->second.shown);
        treeStages.erase(it);
        if (shown)
            Q_EMIT q->treeEntryRemoved(shown->microServiceId, shown->stage);
    }

    // The children of a stage node: the folders that appeared are read, those gone emptied.
    void updateFolders(const QString &stagePath, const QStringList &children)
    {
        static const QStringList folders = {QStringLiteral("providers"), QStringLiteral("consumers"),
                                            QStringLiteral("overrides")};
        TreeStage &stage = treeStages.at(stagePath);
        for (const QString &folder : folders) {
            const bool listed = children.contains(folder);
            if (listed == stage.folders.contains(folder))
                continue;
            const QString path = stagePath + QLatin1Char('/') + folder;
            if (listed) {
                stage.folders.insert(folder);
                readTreePath(path);
            } else {
                dropFolder(path);
            }
        }
    }

    void dropFolder(const QString &folderPath)
    {
        updateFolder(folderPath, {});
        treeStages.at(stageOf(folderPath)).folders.remove(nameOf(folderPath));
    }

    // The children of a stage's folder, as just listed (none: it has gone). New override
    // nodes are read; those already known have their own watches.
    void updateFolder(const QString &folderPath, const QStringList &children)
    {
        TreeStage &stage = treeStages.at(stageOf(folderPath));
        const QString folder = nameOf(folderPath);
        if (folder == QLatin1String("providers")) {
            stage.entry.providers = providersFrom(children);
        } else if (folder == QLatin1String("consumers")) {
            stage.entry.consumers = consumersFrom(children);
        } else {
            const QSet<QString> now(children.cbegin(), children.cend());
            const QSet<QString> added = now - std::exchange(stage.overrideNodes, now);
            for (auto node = stage.overrideByNode.begin(); node != stage.overrideByNode.end();)
                node = now.contains(node.key()) ? std::next(node) : stage.overrideByNode.erase(node);
            stage.entry.overrides = overridesByAddress(stage.overrideByNode);
            for (const QString &node : added)
                readTreePath(folderPath + QLatin1Char('/') + node);
        }
        sortEntry(stage.entry);
    }

    // An override node's data: a malformed override is left out, as browse() does.
    void onTreeOverride(const QString &path, const QByteArray &data)
    {
        TreeStage &stage = treeStages.at(stageOf(path));
        if (const auto value = InstanceOverride::fromJson(data, nullptr))
            stage.overrideByNode.insert(nameOf(path), *value);
        else
            stage.overrideByNode.remove(nameOf(path));
        stage.entry.overrides = overridesByAddress(stage.overrideByNode);
    }

    // Reports a stage whose reads are all back, when it differs from what was last reported.
    void publishTreeStage(const QString &stagePath)
    {
        const auto it = treeStages.find(stagePath);
        if (it == treeStages.end() || it->second.pending > 0)
            return;
        TreeStage &stage = it->second;
        if (stage.shown && sameEntry(*stage.shown, stage.entry))
            return;
        stage.shown = stage.entry;
        const RegistryServiceEntry entry = stage.entry; // a slot may change the tree
        Q_EMIT q->treeEntryChanged(entry);
    }
};

ZooKeeperRegistry::ZooKeeperRegistry(const QString &uri, const RpcConfig &config, QObject *parent)
    : Registry(parent), d(std::make_unique<ZooKeeperRegistryPrivate>())
{
    static const bool quiet = [] {
        // The C client's own log goes to stderr on every reconnect attempt; this class
        // reports what matters through the tomato.registry.zookeeper category.
        zoo_set_debug_level(ZooLogLevel(0));
        return true;
    }();
    Q_UNUSED(quiet);
    d->q = this;
    d->options = parseUri(uri, config); // throws before anything is started
    d->bridge->receiver = this;
    d->lostTimer.setSingleShot(true);
    connect(&d->lostTimer, &QTimer::timeout, this,
            [this] { d->startNewSession("disconnected for longer than the session timeout"); });
    d->openTimer.setSingleShot(true);
    connect(&d->openTimer, &QTimer::timeout, this, [this] {
        if (!d->stopped && !d->zh)
            d->open();
    });
}

ZooKeeperRegistry::~ZooKeeperRegistry()
{
    {
        QMutexLocker lock(&d->bridge->mutex);
        d->bridge->receiver = nullptr; // callbacks from here on are dropped
    }
    d->stopped = true;
    d->lostTimer.stop();
    d->openTimer.stop();
    d->close();
    d->failBrowses(QStringLiteral("the registry was destroyed before it had read the tree"));
}

void ZooKeeperRegistry::start()
{
    if (!d->stopped)
        return;
    d->stopped = false;
    d->open();
}

void ZooKeeperRegistry::stop()
{
    if (d->stopped)
        return;
    // Closing the session removes our ephemeral nodes at once.
    d->stopped = true;
    d->lostTimer.stop();
    d->openTimer.stop();
    d->close();
    d->failBrowses(QStringLiteral("the registry was stopped before it had read the tree"));
}

void ZooKeeperRegistry::registerInstance(const InstanceInfo &instance)
{
    d->addRegistration(instancePath(instance), instance.toJson(), instance.toUri());
}

void ZooKeeperRegistry::unregisterInstance(const InstanceInfo &instance)
{
    d->removeRegistration(instancePath(instance));
}

void ZooKeeperRegistry::registerConsumer(const ConsumerInfo &consumer)
{
    d->addRegistration(consumerPath(consumer), consumer.toJson(), consumer.toUri());
}

void ZooKeeperRegistry::unregisterConsumer(const ConsumerInfo &consumer)
{
    d->removeRegistration(consumerPath(consumer));
}

InstanceOverrides ZooKeeperRegistry::overrides(const QString &microServiceId, const QString &stage) const
{
    const auto it = d->subscriptions.find(key(microServiceId, stage));
    return it == d->subscriptions.end() ? InstanceOverrides() : it->second.overrides;
}

void ZooKeeperRegistry::setOverride(const QString &microServiceId, const QString &stage, const QString &address,
                                    const InstanceOverride &value)
{
    d->queueWrite(microServiceId, stage, address, value.toJson());
}

void ZooKeeperRegistry::clearOverride(const QString &microServiceId, const QString &stage, const QString &address)
{
    d->queueWrite(microServiceId, stage, address, std::nullopt);
}

QFuture<QList<RegistryServiceEntry>> ZooKeeperRegistry::browse()
{
    const quint64 id = ++d->nextBrowseId;
    auto &b = d->browses[id];
    b = std::make_unique<ZooKeeperRegistryPrivate::Browse>();
    b->promise.start();
    QFuture<QList<RegistryServiceEntry>> future = b->promise.future();
    d->startBrowse(id);
    return future;
}

bool ZooKeeperRegistry::hasCredentials() const
{
    return !d->options.username.isEmpty();
}

void ZooKeeperRegistry::watchTree()
{
    if (d->treeWatched)
        return;
    d->treeWatched = true;
    d->rereadTree(); // now if connected, else on the next connection
}

QList<RegistryServiceEntry> ZooKeeperRegistry::tree() const
{
    QList<RegistryServiceEntry> out;
    for (const auto &[path, stage] : d->treeStages) {
        if (stage.shown)
            out.append(*stage.shown);
    }
    std::sort(out.begin(), out.end(), [](const RegistryServiceEntry &x, const RegistryServiceEntry &y) {
        return std::tie(x.microServiceId, x.stage) < std::tie(y.microServiceId, y.stage);
    });
    return out;
}

bool ZooKeeperRegistry::isTreeLoaded() const
{
    return d->treeLoaded;
}

void ZooKeeperRegistry::subscribe(const QString &microServiceId, const QString &stage)
{
    const QString k = key(microServiceId, stage);
    if (d->subscriptions.count(k))
        return;
    auto &sub = d->subscriptions[k];
    sub.microServiceId = microServiceId;
    sub.stage = stage;
    d->read(k);
    d->readOverrides(k);
}

QList<InstanceInfo> ZooKeeperRegistry::instances(const QString &microServiceId, const QString &stage) const
{
    const auto it = d->subscriptions.find(key(microServiceId, stage));
    return it == d->subscriptions.end() ? QList<InstanceInfo>() : it->second.instances;
}

bool ZooKeeperRegistry::isConnected() const
{
    return d->connected;
}

void ZooKeeperRegistry::registerScheme(RegistryFactory &factory)
{
    factory.registerScheme(QStringLiteral("zookeeper"), [](const QString &uri, const RpcConfig &config, QObject *parent) {
        return std::make_unique<ZooKeeperRegistry>(uri, config, parent);
    });
}

QString ZooKeeperRegistry::providersPath(const QString &microServiceId, const QString &stage)
{
    return QStringLiteral("/tomato/%1/%2/providers")
        .arg(encodePathSegment(microServiceId), encodePathSegment(stage));
}

QString ZooKeeperRegistry::instancePath(const InstanceInfo &instance)
{
    return providersPath(instance.microServiceId(), instance.stage()) + QLatin1Char('/') + instance.nodeName();
}

QString ZooKeeperRegistry::consumersPath(const QString &microServiceId, const QString &stage)
{
    return QStringLiteral("/tomato/%1/%2/consumers").arg(encodePathSegment(microServiceId), encodePathSegment(stage));
}

QString ZooKeeperRegistry::consumerPath(const ConsumerInfo &consumer)
{
    return consumersPath(consumer.microServiceId, consumer.stage) + QLatin1Char('/') + consumer.nodeName();
}

QString ZooKeeperRegistry::overridesPath(const QString &microServiceId, const QString &stage)
{
    return QStringLiteral("/tomato/%1/%2/overrides").arg(encodePathSegment(microServiceId), encodePathSegment(stage));
}

QString ZooKeeperRegistry::overridePath(const QString &microServiceId, const QString &stage, const QString &address)
{
    return overridesPath(microServiceId, stage) + QLatin1Char('/') + encodePathSegment(address);
}

} // namespace Tomato
