// SPDX-License-Identifier: Apache-2.0
#include <tomato/compression/codec_p.h>

#include <QtTest/QTest>

using namespace Tomato;

class tst_Compression : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTrips_data();
    void roundTrips();
    void refusesCorruptData_data();
    void refusesCorruptData();
    void refusesOutputOverTheLimit();
    void namesAreKnown();
};

void tst_Compression::roundTrips_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QByteArray>("data");
    for (auto kind : {Compression::Kind::Gzip, Compression::Kind::Zstd}) {
        const QByteArray n = Compression::name(kind);
        QTest::addRow("%s empty", n.constData()) << int(kind) << QByteArray();
        QTest::addRow("%s text", n.constData()) << int(kind) << QByteArray("hello hello hello hello");
        QTest::addRow("%s 1 MiB", n.constData()) << int(kind) << QByteArray(1 << 20, 'x');
    }
}

void tst_Compression::roundTrips()
{
    QFETCH(int, kind);
    QFETCH(QByteArray, data);
    const auto k = Compression::Kind(kind);
    const QByteArray packed = Compression::compress(k, data);
    QVERIFY(!packed.isEmpty());
    if (data.size() > 1000)
        QVERIFY(packed.size() < data.size() / 10);
    QByteArray back;
    QString error;
    QVERIFY2(Compression::decompress(k, packed, 2 << 20, &back, &error), qPrintable(error));
    QCOMPARE(back, data);
}

void tst_Compression::refusesCorruptData_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QByteArray>("data");
    const QByteArray gz = Compression::compress(Compression::Kind::Gzip, QByteArray(5000, 'g'));
    const QByteArray zs = Compression::compress(Compression::Kind::Zstd, QByteArray(5000, 'z'));
    QTest::newRow("gzip garbage") << int(Compression::Kind::Gzip) << QByteArray("not gzip at all");
    QTest::newRow("gzip truncated") << int(Compression::Kind::Gzip) << gz.left(gz.size() / 2);
    QTest::newRow("zstd garbage") << int(Compression::Kind::Zstd) << QByteArray("not zstd at all");
    QTest::newRow("zstd truncated") << int(Compression::Kind::Zstd) << zs.left(zs.size() / 2);
}

void tst_Compression::refusesCorruptData()
{
    QFETCH(int, kind);
    QFETCH(QByteArray, data);
    QByteArray out;
    QString error;
    QVERIFY(!Compression::decompress(Compression::Kind(kind), data, 1 << 20, &out, &error));
    QVERIFY(!error.isEmpty());
}

void tst_Compression::refusesOutputOverTheLimit()
{
    // A small body that would expand far beyond the limit: a decompression bomb.
    for (auto kind : {Compression::Kind::Gzip, Compression::Kind::Zstd}) {
        const QByteArray bomb = Compression::compress(kind, QByteArray(8 << 20, '\0'));
        QVERIFY(bomb.size() < 100 * 1024);
        QByteArray out;
        QString error;
        QVERIFY(!Compression::decompress(kind, bomb, 1 << 20, &out, &error));
        QVERIFY2(error.contains(QLatin1String("exceeds")), qPrintable(error));
    }
}

void tst_Compression::namesAreKnown()
{
    Compression::Kind k;
    QVERIFY(Compression::fromName("gzip", &k) && k == Compression::Kind::Gzip);
    QVERIFY(Compression::fromName("zstd", &k) && k == Compression::Kind::Zstd);
    QVERIFY(!Compression::fromName("lz4", &k));
}

QTEST_APPLESS_MAIN(tst_Compression)
#include "tst_compression.moc"
