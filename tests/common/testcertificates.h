// SPDX-License-Identifier: Apache-2.0
#pragma once
// Throw-away certificates for TLS tests, made with the openssl program in a temporary
// directory: a test CA, certificates it signs (valid, expired, for the wrong host) and a
// second, untrusted CA. EC P-256 keys, so making them all takes well under a second.
// Used on the test thread only.
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>

class TestCertificates
{
public:
    // Makes everything; false (and error()) when openssl fails.
    bool make()
    {
        if (!m_dir.isValid())
            return fail(QStringLiteral("no temporary directory"));
        writeConfig();
        return makeCa(QStringLiteral("ca"), QStringLiteral("Tomato Test CA"))
            && makeCa(QStringLiteral("otherca"), QStringLiteral("Some Other CA"))
            && makeLeaf(QStringLiteral("ca"), QStringLiteral("server"), QStringLiteral("localhost"),
                        QStringLiteral("DNS:localhost,IP:127.0.0.1"), Valid)
            && makeLeaf(QStringLiteral("ca"), QStringLiteral("server-expired"), QStringLiteral("localhost"),
                        QStringLiteral("DNS:localhost,IP:127.0.0.1"), Expired)
            && makeLeaf(QStringLiteral("ca"), QStringLiteral("server-wronghost"), QStringLiteral("other.example"),
                        QStringLiteral("DNS:other.example"), Valid)
            && makeLeaf(QStringLiteral("otherca"), QStringLiteral("server-otherca"), QStringLiteral("localhost"),
                        QStringLiteral("DNS:localhost,IP:127.0.0.1"), Valid)
            && makeLeaf(QStringLiteral("ca"), QStringLiteral("client-a"), QStringLiteral("client-a"), {}, Valid)
            && makeLeaf(QStringLiteral("ca"), QStringLiteral("client-b"), QStringLiteral("client-b"), {}, Valid)
            && makeLeaf(QStringLiteral("ca"), QStringLiteral("client-expired"), QStringLiteral("client-old"), {}, Expired)
            && makeLeaf(QStringLiteral("otherca"), QStringLiteral("client-otherca"), QStringLiteral("client-a"), {}, Valid);
    }

    // The CA bundle clients and servers trust.
    QString ca() const { return path(QStringLiteral("ca/ca.pem")); }
    QString otherCa() const { return path(QStringLiteral("otherca/ca.pem")); }
    // <name>.pem and <name>.key of the certificates above (server, server-expired,
    // server-wronghost, server-otherca, client-a, client-b, client-expired, client-otherca).
    QString cert(const QString &name) const { return path(name + QLatin1String(".pem")); }
    QString key(const QString &name) const { return path(name + QLatin1String(".key")); }
    QString directory() const { return m_dir.path(); }
    QString error() const { return m_error; }

private:
    enum Validity { Valid, Expired };

    QString path(const QString &name) const { return m_dir.filePath(name); }

    bool fail(const QString &why)
    {
        m_error = why;
        return false;
    }

    void writeConfig()
    {
        QFile f(path(QStringLiteral("openssl.cnf")));
        f.open(QIODevice::WriteOnly);
        f.write("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = placeholder\n"
                "[v3_ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n"
                "subjectKeyIdentifier = hash\n"
                "[ca]\ndefault_ca = CA_default\n"
                "[CA_default]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                "policy = policy_any\ncopy_extensions = copy\nunique_subject = no\nemail_in_dn = no\n"
                "[policy_any]\ncommonName = supplied\n"
                "[leaf]\nbasicConstraints = CA:FALSE\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n");
    }

    bool openssl(const QStringList &arguments, const QString &workingDir = {})
    {
        QProcess p;
        p.setWorkingDirectory(workingDir.isEmpty() ? m_dir.path() : workingDir);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral("openssl"), arguments);
        p.closeWriteChannel();
        if (!p.waitForFinished(30000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
            return fail(QStringLiteral("openssl %1: %2").arg(arguments.join(QLatin1Char(' ')),
                                                             QString::fromLocal8Bit(p.readAll())));
        return true;
    }

    QStringList newKey(const QString &keyFile) const
    {
        return {QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
                QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                QStringLiteral("-keyout"), keyFile};
    }

    bool makeCa(const QString &name, const QString &commonName)
    {
        QDir(m_dir.path()).mkpath(name);
        QFile index(path(name + QLatin1String("/index.txt")));
        QFile serial(path(name + QLatin1String("/serial")));
        if (!index.open(QIODevice::WriteOnly) || !serial.open(QIODevice::WriteOnly))
            return fail(QStringLiteral("cannot write the CA files"));
        serial.write("1000\n");
        return openssl(QStringList{QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-config"),
                                   path(QStringLiteral("openssl.cnf")), QStringLiteral("-extensions"), QStringLiteral("v3_ca")}
                       + newKey(path(name + QLatin1String("/ca.key")))
                       + QStringList{QStringLiteral("-days"), QStringLiteral("3650"), QStringLiteral("-subj"),
                                     QLatin1String("/CN=") + commonName, QStringLiteral("-out"),
                                     path(name + QLatin1String("/ca.pem"))});
    }

    bool makeLeaf(const QString &caName, const QString &name, const QString &commonName, const QString &altNames,
                  Validity validity)
    {
        QStringList request{QStringLiteral("req"), QStringLiteral("-new"), QStringLiteral("-config"),
                            path(QStringLiteral("openssl.cnf"))};
        request += newKey(key(name));
        request += {QStringLiteral("-subj"), QLatin1String("/CN=") + commonName, QStringLiteral("-out"),
                    path(name + QLatin1String(".csr"))};
        if (!altNames.isEmpty())
            request += {QStringLiteral("-addext"), QLatin1String("subjectAltName=") + altNames};
        QStringList sign{QStringLiteral("ca"), QStringLiteral("-batch"), QStringLiteral("-notext"),
                         QStringLiteral("-config"), path(QStringLiteral("openssl.cnf")), QStringLiteral("-extensions"),
                         QStringLiteral("leaf"), QStringLiteral("-cert"), path(caName + QLatin1String("/ca.pem")),
                         QStringLiteral("-keyfile"), path(caName + QLatin1String("/ca.key")), QStringLiteral("-in"),
                         path(name + QLatin1String(".csr")), QStringLiteral("-out"), cert(name)};
        if (validity == Expired)
            sign += {QStringLiteral("-startdate"), QStringLiteral("20200101000000Z"), QStringLiteral("-enddate"),
                     QStringLiteral("20200102000000Z")};
        else
            sign += {QStringLiteral("-days"), QStringLiteral("30")};
        return openssl(request) && openssl(sign, path(caName));
    }

    QTemporaryDir m_dir;
    QString m_error;
};
