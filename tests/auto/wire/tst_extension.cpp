// SPDX-License-Identifier: Apache-2.0
#include <tomato/wire/extension_p.h>

#include <QtTest/QTest>

using Tomato::Extension;

class tst_Extension : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void roundTripsAnyUtf8KeyAndValue_data();
    void roundTripsAnyUtf8KeyAndValue();
    void escapesOnlyWhatItMust();
    void refusesMalformedInput_data();
    void refusesMalformedInput();
    void acceptsEscapesInEitherCase();
    void keepsOrderAndFirstValueWins();
};

void tst_Extension::roundTripsAnyUtf8KeyAndValue_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::newRow("plain") << "service" << "Sample::EchoService";
    QTest::newRow("separators") << "a:b&c" << "x&y:z&&::";
    QTest::newRow("percent") << "100%" << "%41%zz%";
    QTest::newRow("unicode") << QString::fromUtf8("clé ✓") << QString::fromUtf8("värde 🍅");
    QTest::newRow("empty value") << "k" << "";
    QTest::newRow("empty key") << "" << "v";
    QTest::newRow("control bytes") << "nl\n" << QString::fromLatin1("\x01\x02\t", 3);
}

void tst_Extension::roundTripsAnyUtf8KeyAndValue()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    Extension ext;
    ext.insert("first", QByteArray("1"));
    ext.insert(key.toUtf8(), value);
    ext.insert("last", QByteArray("2"));
    Extension back;
    QString error;
    QVERIFY2(Extension::decode(ext.encode(), &back, &error), qPrintable(error));
    QCOMPARE(back.entries().size(), 3);
    QCOMPARE(QString::fromUtf8(back.entries().at(1).first), key);
    QCOMPARE(QString::fromUtf8(back.entries().at(1).second), value);
    QCOMPARE(back.value("last"), QByteArray("2"));
}

void tst_Extension::escapesOnlyWhatItMust()
{
    Extension ext;
    ext.insert("service", QByteArray("Sample::EchoService"));
    ext.insert("timeout-ms", QByteArray("2000"));
    QCOMPARE(ext.encode(), QByteArray("service:Sample%3A%3AEchoService&timeout-ms:2000"));
}

void tst_Extension::refusesMalformedInput_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("entry without colon") << QByteArray("a:b&c");
    QTest::newRow("truncated escape") << QByteArray("a:%4");
    QTest::newRow("escape at end") << QByteArray("a:%");
    QTest::newRow("non-hex escape") << QByteArray("a:%G1");
    QTest::newRow("trailing ampersand") << QByteArray("a:b&");
    QTest::newRow("empty entry") << QByteArray("a:b&&c:d");
    // Every byte outside A-Z a-z 0-9 - . _ ~ must be escaped (docs/PROTOCOL.md section 4).
    QTest::newRow("unescaped colon in a value") << QByteArray("service:Sample::EchoService");
    QTest::newRow("unescaped space") << QByteArray("message:two words");
    QTest::newRow("raw UTF-8") << QByteArray("k:caf\xc3\xa9");
    QTest::newRow("unescaped byte in a key") << QByteArray("ctx.a/b:1");
    QTest::newRow("unescaped percent sign") << QByteArray("a:100%");
    QTest::newRow("plus sign") << QByteArray("timeout-ms:+5000");
}

void tst_Extension::refusesMalformedInput()
{
    QFETCH(QByteArray, bytes);
    Extension ext;
    QString error;
    QVERIFY(!Extension::decode(bytes, &ext, &error));
    QVERIFY(!error.isEmpty());
}

void tst_Extension::acceptsEscapesInEitherCase()
{
    Extension ext;
    QString error;
    QVERIFY2(Extension::decode("service:Sample%3a%3aEchoService&k%2D1:%7e", &ext, &error), qPrintable(error));
    QCOMPARE(ext.value("service"), QByteArray("Sample::EchoService"));
    QCOMPARE(ext.value("k-1"), QByteArray("~")); // an escaped unreserved byte is that byte
    Extension bad;
    QVERIFY(!Extension::decode("message:two words", &bad, &error));
    QCOMPARE(error, QStringLiteral("byte 0x20 at offset 11 of the extension must be percent-escaped"));
    QVERIFY(!Extension::decode("a:1&service:A::B", &bad, &error));
    QCOMPARE(error, QStringLiteral("byte ':' (0x3a) at offset 13 of the extension must be percent-escaped"));
}

void tst_Extension::keepsOrderAndFirstValueWins()
{
    Extension ext;
    QString error;
    QVERIFY(Extension::decode("b:2&a:1&b:3", &ext, &error));
    QCOMPARE(ext.entries().at(0).first, QByteArray("b"));
    QCOMPARE(ext.value("b"), QByteArray("2"));
    QVERIFY(ext.contains("a"));
    QVERIFY(!ext.contains("c"));
    QCOMPARE(ext.value("c", "fallback"), QByteArray("fallback"));
}

QTEST_APPLESS_MAIN(tst_Extension)
#include "tst_extension.moc"
