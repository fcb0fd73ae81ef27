module wsgid

go 1.26.8
